"""The run context (plain data a workflow sees) and safe template rendering over it.

The context is built from rows into dicts of strings, numbers, booleans and lists, so templates and conditions
never touch a model, a method or a setting. Templates render in Jinja2's immutable sandbox (`workflows.engine.sandbox`), which
refuses private attributes and bounds every render by a step and character budget; an unknown placeholder renders as
empty text rather than failing the step.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from jinja2 import Template, TemplateError, meta, nodes

from conversations import clock
from conversations.models import Attachment, Contact, Conversation, Event, Message
from workflows.engine import sandbox


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _minutes_since(moment: dt.datetime | None) -> int | None:
    return int((clock.now() - moment).total_seconds() // 60) if moment else None


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    """A conversation as plain data (the `conversation.*` namespace)."""
    assignee = conversation.assignee
    return {
        "id": conversation.pk,
        "subject": conversation.subject,
        "channel": conversation.channel,
        "status": conversation.status,
        "priority": conversation.priority,
        "assignee": assignee.get_username() if assignee else None,
        "assignee_id": conversation.assignee_id,
        "assignee_email": assignee.email if assignee else None,
        "team": conversation.team.name if conversation.team is not None else None,
        "team_id": conversation.team_id,
        "tags": sorted(tag.name for tag in conversation.tags.all()),
        "disposition": conversation.disposition or None,
        "sentiment": conversation.sentiment,
        "created_at": _iso(conversation.created_at),
        "age_minutes": _minutes_since(conversation.created_at),
        "idle_minutes": _minutes_since(conversation.updated_at),
        "first_response_at": _iso(conversation.first_response_at),
        "last_customer_message_at": _iso(conversation.last_customer_message_at),
        "resolved_at": _iso(conversation.resolved_at),
        "message_count": _message_count(conversation),
        "fields": dict(conversation.fields or {}),  # conversation fields by key (docs/managers.md)
    }


def _message_count(conversation: Conversation) -> int:
    """Counted in the conversation's own query when build_context loaded it (one round trip less per context)."""
    counted = getattr(conversation, "context_message_count", None)
    return conversation.messages.count() if counted is None else counted


def _with_message_count(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate the number of messages with a correlated subquery (no GROUP BY over the joined rows)."""
    count = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return conversations.annotate(
        context_message_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0))
    )


def contact_data(contact: Contact | None) -> dict[str, Any]:
    """A contact as plain data (the `contact.*` namespace, with `attributes` as its memory)."""
    if contact is None:
        return {}
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "segment": contact.segment,
        "language": contact.language,
        "attributes": dict(contact.attributes or {}),
    }


def message_data(message: Message | None) -> dict[str, Any] | None:
    """A message as plain data (the `message.*` namespace)."""
    if message is None:
        return None
    return {
        "id": message.pk,
        "body": message.body,
        "sender_type": message.sender_type,
        "internal": message.internal,
        "sentiment": message.sentiment,
        "created_at": _iso(message.created_at),
        "has_attachments": _has_attachments(message),
    }


def _has_attachments(message: Message) -> bool:
    flagged = getattr(message, "context_has_attachments", None)
    return message.attachments.exists() if flagged is None else bool(flagged)


def _messages() -> Any:
    """Messages with what their context shows that is not a column (`has_attachments`), in the same query."""
    return Message.objects.annotate(context_has_attachments=Exists(Attachment.objects.filter(message=OuterRef("pk"))))


def event_data(event: Event) -> dict[str, Any]:
    """The event: its payload keys at the top (`event.sender_type`) and under `properties` (CloudTalk style)."""
    payload = dict(event.payload or {})
    return {
        **payload,
        "id": str(event.pk),
        "type": event.type,
        "occurred_at": _iso(event.occurred_at),
        "depth": event.depth,
        "payload": payload,
        "properties": payload,
    }


def build_context(
    event: Event, variables: dict[str, Any] | None = None, conversation: Conversation | None = None
) -> dict[str, Any]:
    """Everything a run's conditions and templates can read, as plain data, fresh from the database."""
    return LazyContext(event, variables, conversation).complete()


def _conversations_with_context(ids: Iterable[int]) -> dict[int, Conversation]:
    """Conversations with what their context shows (contact, assignee, team, tags, message count): three queries
    for any number of them."""
    rows = _with_message_count(
        Conversation.objects.select_related("contact", "assignee", "team").prefetch_related("tags")
    ).filter(pk__in=ids)
    return {conversation.pk: conversation for conversation in rows}


class BatchReader:
    """Reads the messages and conversations (with their contacts) of a batch of events once, on first use: a batch
    of N events costs one query for its messages and three for its conversations, not N of each."""

    def __init__(self, events: list[Event]):
        self._events = events
        self._messages: dict[Any, dict[str, Any] | None] | None = None
        self._conversations: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._unread: set[int] = {event.conversation_id for event in events if event.conversation_id}

    def context(self, event: Event, variables: dict[str, Any] | None = None) -> LazyContext:
        """The (lazy) context of one of the batch's events."""
        return LazyContext(event, variables, reader=self)

    def message(self, event: Event) -> dict[str, Any] | None:
        if self._messages is None:
            ids = {message_id for other in self._events if (message_id := (other.payload or {}).get("message_id"))}
            self._messages = {message.pk: message_data(message) for message in _messages().filter(pk__in=ids)}
        message_id = (event.payload or {}).get("message_id")
        if message_id in self._messages:
            return self._messages[message_id]
        return message_data(_messages().filter(pk=message_id).first()) if message_id else None

    def conversation(self, event: Event) -> tuple[dict[str, Any], dict[str, Any]]:
        """(conversation data, contact data) of the event's conversation, as of the last read."""
        conversation_id = event.conversation_id
        if conversation_id is None:
            return {}, contact_data(event.contact)
        if conversation_id not in self._conversations:
            wanted = (self._unread | {conversation_id}) - set(self._conversations)
            for pk, conversation in _conversations_with_context(wanted).items():
                self._conversations[pk] = (conversation_data(conversation), contact_data(conversation.contact))
            self._unread -= wanted
        return self._conversations.get(conversation_id, ({}, contact_data(event.contact)))


class LazyContext(dict[str, Any]):
    """The context for trigger matching: `event`, `sla` and `vars` at once, the conversation (with its contact) and
    the message read from the database on first use. Most events are rejected on the event or the message alone,
    so they never cost the conversation's queries. Lookups (`[]`, `get`, `in`) load; iterate only `complete()`.
    With a `reader` the reads are shared with the other events of a batch."""

    LAZY = ("conversation", "contact", "message")

    def __init__(
        self,
        event: Event,
        variables: dict[str, Any] | None = None,
        conversation: Conversation | None = None,
        reader: BatchReader | None = None,
        known: dict[str, Any] | None = None,
        own_conversation: bool = False,
    ):
        super().__init__(
            event=event_data(event),
            sla=dict(event.payload) if event.type.startswith("sla.") else {},
            vars=dict(variables or {}),
            **(known or {}),
        )
        self._event, self._conversation, self._reader = event, conversation or event.conversation, reader
        self._own_conversation = own_conversation  # read the conversation on its own, not from the batch's reader

    def __missing__(self, key: str) -> Any:
        if key == "message":
            self["message"] = self._read_message()
        elif key in ("conversation", "contact"):
            if self._reader is not None and not self._own_conversation:
                self["conversation"], self["contact"] = self._reader.conversation(self._event)
            else:
                self._load_conversation()
        else:
            raise KeyError(key)
        return dict.__getitem__(self, key)

    def _read_message(self) -> dict[str, Any] | None:
        if self._reader is not None:
            return self._reader.message(self._event)
        message_id = (self._event.payload or {}).get("message_id")
        return message_data(_messages().filter(pk=message_id).first() if message_id else None)

    def _load_conversation(self) -> None:
        conversation = self._conversation
        if conversation is not None:
            conversation = _with_message_count(Conversation.objects.select_related("contact", "assignee", "team")).get(
                pk=conversation.pk
            )
        contact = conversation.contact if conversation is not None else self._event.contact
        self["conversation"] = conversation_data(conversation) if conversation is not None else {}
        self["contact"] = contact_data(contact)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (this is `get`: the lazy keys load in __getitem__)

    def __contains__(self, key: object) -> bool:
        return key in self.LAZY or dict.__contains__(self, key)

    def complete(self) -> dict[str, Any]:
        """A plain dict with every namespace read (what runs, templates and webhooks see)."""
        return {key: self[key] for key in ("event", "conversation", "contact", "message", "sla", "vars")}

    def load(self, names: Iterable[str]) -> None:
        """Read the lazy namespaces among `names` now (before the context is copied, e.g. by a template render)."""
        for name in names:
            if name in self.LAZY:
                self[name]  # noqa: B018 (loads it)

    def fork(self, variables: dict[str, Any]) -> LazyContext:
        """A private copy for another run of the same event: what was read so far is copied, the rest stays lazy."""
        known = {key: copy.deepcopy(dict.__getitem__(self, key)) for key in self.LAZY if dict.__contains__(self, key)}
        return LazyContext(
            self._event,
            variables,
            self._conversation,
            reader=self._reader,
            known=known,
            own_conversation=self._own_conversation,
        )

    def refreshed(self, variables: dict[str, Any]) -> LazyContext:
        """The context after a step changed the conversation: the conversation and contact are read again (on their
        own) where a later step looks; the event's message, which never changes once written, is kept."""
        known = {"message": dict.__getitem__(self, "message")} if dict.__contains__(self, "message") else {}
        return LazyContext(
            self._event, variables, self._conversation, reader=self._reader, known=known, own_conversation=True
        )


@lru_cache(maxsize=1024)
def _template_names(text: str) -> frozenset[str]:
    """The top-level names a template reads (`message` in `{{ message.body }}`)."""
    try:
        return frozenset(meta.find_undeclared_variables(sandbox.environment().parse(text)))
    except (TemplateError, RecursionError):
        return frozenset(LazyContext.LAZY)


def _load_referenced(value: Any, context: LazyContext) -> None:
    """Read the namespaces the templates inside `value` refer to, so the render (which copies the context) sees
    them; a template that reads only `message` never costs the conversation's queries."""
    context.load(template_inputs(value) or ())


def template_inputs(value: Any) -> frozenset[str] | None:
    """The top-level names the templates inside a JSON-like value read (`contact` in `Hi {{ contact.name }}`), or
    None when it holds no template (rendering it is free). A template that does not parse reads every namespace."""
    names: set[str] = set()
    found = False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "{{" in item or "{%" in item:
                found = True
                names |= _template_names(item)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return frozenset(names) if found else None


def template_error(text: str) -> str | None:
    """The syntax error of a template, or None when it parses (used by definition validation). A name starting
    with an underscore is refused here already: the sandbox would refuse it at run time anyway."""
    try:
        tree = sandbox.environment().parse(text)
    except TemplateError as exc:
        return f"Template error: {exc}"
    except RecursionError:  # a chain of a thousand filters nests past Python's stack: a 400, not a 500
        return "Template error: the template nests too deeply (a long chain of filters or expressions); simplify it."
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            return f'Template error: "{name}" is private; templates read plain data only.'
    return None


class RenderError(Exception):
    """A template could not be rendered (the step fails with this message)."""


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    return sandbox.environment().from_string(text)


def render(text: str, context: dict[str, Any]) -> str:
    """Render one template string over the context; text without placeholders is returned as is."""
    if "{{" not in text and "{%" not in text:
        return text
    try:
        with sandbox.budgeted():
            return str(_compiled(text).render(context))
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise RenderError(f"Could not render {text!r}: {exc}") from exc


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside a JSON-like value (dicts, lists) over the context, all within one deadline."""
    if isinstance(context, LazyContext):
        _load_referenced(value, context)
    with sandbox.render_deadline():
        return _render_strings(value, context)


def _render_strings(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [_render_strings(item, context) for item in value]
    if isinstance(value, dict):
        return {key: _render_strings(item, context) for key, item in value.items()}
    return value
