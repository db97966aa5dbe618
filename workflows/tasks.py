"""django-q2 entry points of the engine. Tasks receive ids, reload rows and are safe to run twice."""
from django.db.models import Q
from django.utils import timezone

from conversations.models import Event


def dispatch_event_task(event_id: str) -> None:
    """Consume one committed event. Until the dispatcher lands this only marks it handled (idempotent)."""
    Event.objects.filter(Q(pk=event_id) & Q(dispatched_at__isnull=True)).update(
        dispatched_at=timezone.now(), dispatch_note="no dispatcher installed"
    )
