"""Enumerations of the workflow engine, defined once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkflowStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    STOPPED = "stopped", _("Stopped")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED, RunStatus.CANCELLED)


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    STOPPED = "stopped", _("Stopped")


DONE_STEP_STATUSES = (StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.STOPPED)


class OnFalse(models.TextChoices):
    STOP = "stop", _("Stop")
    CONTINUE = "continue", _("Continue")
    SKIP_NEXT = "skip_next", _("Skip next step")


class ScheduledEventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    FIRED = "fired", _("Fired")
    CLEARED = "cleared", _("Cleared")


class ReplayStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
