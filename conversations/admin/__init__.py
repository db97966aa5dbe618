"""Django admin of the conversations domain: where agents work conversations and managers look things up.

The admin classes configure lists, filters and forms; every write goes through `conversations.services`, so a change
made here records the same domain events as one made over the API or by a workflow. History (events, recordings,
surveys) is read-only, as django-q2's own task admin is. One module per area: `conversation` (list, change form,
actions), `people` (contacts, teams, agents), `history` (tickets, surveys, recordings, events).
"""

from conversations.admin import (  # noqa: F401  (importing registers the admins)
    agent_day,  # noqa: F401  (saved views, snooze, links, live thread, notifications)
    conversation,
    fields,  # noqa: F401  (conversation field definitions)
    history,
    people,
    preferences,  # noqa: F401
)
