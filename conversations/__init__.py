"""The conversations domain: contacts, teams, agents, conversations, messages and their event outbox."""
