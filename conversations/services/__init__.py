"""Every change to the conversations domain, one function per change (docs/agents.md).

Each function validates its input, writes inside `transaction.atomic()` and records a domain event in the same
transaction, so the change and its event commit or roll back together. Admin actions, API views and workflow
steps all call these functions; nothing else writes domain state. `depth` is 0 for people and API clients and
parent depth + 1 when a workflow step makes the change (loop protection, docs/operations.md).
"""

# The package is split by area; callers keep `from conversations import services` and `services.<name>(...)`.
# Routing (docs/routing.md) lives in its own room, conversations/routing/; its writes are reachable from here too.
from conversations.routing.agents import agent_set_status, agent_update, hand_back_unanswered  # noqa: F401,E402
from conversations.services.attachments import attachment_add, clean_filename  # noqa: F401
from conversations.services.checks import MAX_BODY_LENGTH, MAX_TAG_LENGTH, OPEN_STATUSES  # noqa: F401
from conversations.services.conversations import (  # noqa: F401
    conversation_add_tags,
    conversation_assign,
    conversation_change_status,
    conversation_open,
    conversation_raise_priority,
    conversation_ref,
    conversation_remove_tags,
    conversation_set_disposition,
    conversation_set_priority,
    conversation_set_tags,
)
from conversations.services.deliveries import delivery_queue, delivery_retry  # noqa: F401
from conversations.services.fields import (  # noqa: F401
    check_can_resolve,
    clean_field_values,
    conversation_field_create,
    conversation_field_delete,
    conversation_field_update,
    conversation_set_fields,
    register_field_usage,
)
from conversations.services.mentions import notifications_mark_read  # noqa: F401,E402
from conversations.services.merge import (  # noqa: F401,E402
    conversation_link,
    conversation_merge,
    conversation_unlink,
    links_of,
)
from conversations.services.messages import message_create  # noqa: F401
from conversations.services.people import (  # noqa: F401
    agent_mark_assigned,
    contact_create,
    contact_update,
    merge_attributes,
    team_create,
    team_delete,
    team_update,
)
from conversations.services.presence import presence_beat, present_on  # noqa: F401,E402
from conversations.services.records import (  # noqa: F401
    MAX_RECORDING_BYTES,
    recording_attach,
    survey_answer,
    survey_create,
    ticket_create,
    transcript_create,
)
from conversations.services.required_skills import conversation_set_required_skills  # noqa: F401,E402
from conversations.services.snooze import conversation_snooze, conversation_wake_due_snoozes  # noqa: F401,E402
