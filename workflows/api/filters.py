"""Query-string filters of the workflow API, declared as django-filter FilterSets. A bad value is a 400 naming the
filter (django-filter's form errors), never a 500."""

from __future__ import annotations

import django_filters

from conversations.models import Conversation
from workflows.choices import RunStatus, WorkflowStatus
from workflows.models import Workflow, WorkflowRun


class WorkflowFilter(django_filters.FilterSet):
    """`?status=active&trigger=message.created&search=vip`."""

    status = django_filters.MultipleChoiceFilter(choices=WorkflowStatus.choices)
    trigger = django_filters.CharFilter(field_name="trigger_type")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Workflow
        fields = ["status", "trigger", "search"]


class WorkflowRunFilter(django_filters.FilterSet):
    """`?workflow=&status=&conversation=&started_after=&started_before=` (docs/api.md)."""

    workflow = django_filters.ModelChoiceFilter(queryset=Workflow.objects.all())
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)
    conversation = django_filters.ModelChoiceFilter(queryset=Conversation.objects.all())
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lte")

    class Meta:
        model = WorkflowRun
        fields = ["workflow", "status", "conversation", "started_after", "started_before"]
