"""Answers out (docs/channels.md): the worker that claims due deliveries (worker.py), the mail it sends (email.py) and the
API channel's signed callback (callback.py). Each send happens with no transaction open; its outcome is one UPDATE.
"""
