"""`escalate`: hand a conversation up. Reassigns it to a team, raises (never lowers) its priority, adds an
internal note with the reason, the context an agent needs and optionally the transcript, and emails the team.

Without a `team` the conversation stays where it is and its current team is notified. The assignee is kept only
when they belong to the team it is escalated to; otherwise the conversation waits in that team's queue.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import selectors, services
from conversations.choices import PRIORITY_RANK, Priority, SenderType
from conversations.models import AgentProfile, Conversation, Message, Team
from workflows.steps import notifications
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types

NOTE_LIMIT = services.MAX_BODY_LENGTH
NO_CONVERSATION = "This step needs a conversation; the event has none."


@step_types.register
class EscalateStep(StepType):
    type = "escalate"
    label = _("Escalate")
    internal = True
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "team": {"type": ["string", "integer"], "minLength": 1, "minimum": 1},
            "priority": {"enum": list(Priority.values)},
            "note": {"type": "string", "maxLength": 5000},
            "include_transcript": {"type": "boolean"},
        },
    }
    templated = ("team", "note")
    references = {"team": "team"}

    def _plan(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """What the escalation does: the team, the priority after it, the note text and who gets the email."""
        rendered = self.render(config, ctx)
        team = selectors.resolve_team(rendered["team"]) if rendered.get("team") not in (None, "") else None
        conversation = ctx.require_conversation()  # describe and execute check for one first
        current = conversation.priority
        wanted = config.get("priority", Priority.URGENT)
        priority = wanted if PRIORITY_RANK[Priority(wanted)] > PRIORITY_RANK[Priority(current)] else current
        notified_team = team or (conversation.team if conversation.team_id else None)
        note = escalation_note(
            ctx,
            team=notified_team,
            priority=priority,
            reason=rendered.get("note", ""),
            include_transcript=config.get("include_transcript", True),
        )
        return {
            "team": team,
            "priority": priority,
            "note": note,
            "notified_team": notified_team,
            "to": notifications.team_addresses(notified_team) if notified_team else [],
        }

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        if ctx.conversation is None:
            return {"would": str(self.label), "input": self.render(config, ctx), "error": NO_CONVERSATION}
        plan = self._plan(config, ctx)
        return {
            "would": str(self.label),
            "team": plan["team"].name if plan["team"] else None,
            "priority": plan["priority"],
            "note": plan["note"],
            "notify": plan["to"],
        }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        conversation = ctx.conversation
        if conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        with transaction.atomic():
            plan = self._plan(config, ctx)
            if plan["team"] is not None:
                keep = _is_member(conversation.assignee_id, plan["team"])
                unassign: dict[str, Any] = {} if keep else {"assignee": None}
                services.conversation_assign(conversation=conversation, team=plan["team"], depth=ctx.depth, **unassign)
            services.conversation_raise_priority(conversation=conversation, priority=plan["priority"], depth=ctx.depth)
            note = services.message_create(
                conversation=conversation,
                body=plan["note"],
                sender_type=SenderType.SYSTEM,
                internal=True,
                depth=ctx.depth,
            )
            if plan["to"]:
                notifications.send(
                    to=plan["to"],
                    subject=f"Escalated: {_title(conversation)}",
                    body=f"{plan['note']}\n\n--\n{notifications.conversation_link(conversation)}",
                )
        return StepOutcome(
            output={
                "team": conversation.team.name if conversation.team is not None else None,
                "assignee": conversation.assignee.get_username() if conversation.assignee is not None else None,
                "priority": conversation.priority,
                "note_message_id": note.pk,
                "notified": plan["to"],
                **({} if plan["to"] else {"notice": "no team email or member email to notify"}),
            }
        )


def _is_member(user_id: int | None, team: Team) -> bool:
    return user_id is not None and AgentProfile.objects.filter(user_id=user_id, teams=team).exists()


def _title(conversation: Conversation) -> str:
    return f"Conversation #{conversation.pk}: {conversation.subject or '(no subject)'}"


def escalation_note(
    ctx: StepContext, *, team: Team | None, priority: str, reason: str, include_transcript: bool
) -> str:
    """The internal note: why, to whom, the context an agent needs, then the transcript when asked for."""
    head = "\n".join(
        [
            f"Escalated{f' to {team.name}' if team else ''} (priority {priority}).",
            *([reason.strip()] if reason.strip() else []),
            "",
            *context_lines(ctx.data),
        ]
    )
    if not include_transcript:
        return head
    return head + "\n\n" + transcript(ctx.conversation, NOTE_LIMIT - len(head) - 2)


def context_lines(data: dict[str, Any]) -> list[str]:
    """Contact, subject, sentiment and tags as short lines (from the run context, so templates see the same)."""
    contact, conversation = data.get("contact") or {}, data.get("conversation") or {}
    attributes = ", ".join(f"{key}={value}" for key, value in sorted((contact.get("attributes") or {}).items()))
    sentiment = conversation.get("sentiment")
    return [
        f"Contact: {contact.get('name') or '(unknown)'}" + (f" <{contact['email']}>" if contact.get("email") else ""),
        f"Attributes: {attributes or '(none)'}",
        f"Subject: {conversation.get('subject') or '(none)'}",
        f"Sentiment: {f'{sentiment:.2f}' if sentiment is not None else '(no customer messages yet)'}",
        f"Tags: {', '.join(conversation.get('tags') or []) or '(none)'}",
    ]


def transcript(conversation: Conversation | None, budget: int) -> str:
    """The public messages, oldest first; when they do not fit the note, the latest ones that do."""
    lines = [
        f"[{m.created_at:%Y-%m-%d %H:%M}] {m.get_sender_type_display()}: {m.body}"
        for m in Message.objects.filter(conversation=conversation, internal=False).order_by("created_at", "pk")
    ]
    header, omitted = "Transcript:", "(earlier messages omitted)"
    kept: list[str] = []
    used = len(header) + len(omitted) + 2
    for line in reversed(lines):
        if used + len(line) + 1 > budget:
            break
        kept.insert(0, line)
        used += len(line) + 1
    if not lines:
        kept = ["(no messages)"]
    return "\n".join([header, *([omitted] if len(kept) < len(lines) else []), *kept])
