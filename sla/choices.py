"""SLA enumerations that validation and the models share (below both, so neither imports the other)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from conversations.choices import Status


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


# A clock can pause in any status a conversation waits in; resolved and closed stop the clocks instead.
PAUSABLE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
