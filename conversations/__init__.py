"""The conversations domain: contacts, teams, agents, conversations, messages and their event outbox.

`__version__` is the one version of the package (pyproject.toml reads it; the API schema shows it).
"""

__version__ = "1.1.0"
