"""The workflow engine: definitions, triggers, conditions, steps, durable runs on django-q2."""
