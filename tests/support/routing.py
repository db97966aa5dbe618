"""Routing helpers: a conversation waiting in a team's queue."""

from conversations import services


def waiting(contact, team, subject="Help", priority="normal", skills=()):
    conversation = services.conversation_open(
        contact=contact, channel="live_chat", subject=subject, priority=priority, team=team
    )
    if skills:
        services.conversation_set_required_skills(conversation=conversation, skills=list(skills))
    return conversation
