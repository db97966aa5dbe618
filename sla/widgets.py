"""Form widgets of the SLA admin that replace raw JSON boxes: the week grid of business hours, the list of custom
closed dates and the policy's match condition builder.

Each keeps the model's JSON field as the one value: the grid and the date list post plain inputs that
`value_from_datadict` turns back into the JSON text the field parses (so the model's own validation reports bad
times or dates as form errors), and every widget keeps that JSON behind a "JSON" toggle for power users. Posting the
field's name alone (the JSON text, as the toggle or an old client does) keeps working.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

WEEKDAYS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))


def _parsed(value: Any) -> Any:
    """The widget's value as data (the field hands over JSON text, or the text a user typed)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else [], indent=2, ensure_ascii=False)


class JsonBuilderWidget(forms.Widget):
    """A friendly editor over a JSON value, with the JSON itself one toggle away.

    The builder's inputs are posted next to a `<name>__builder` marker; ticking the JSON toggle (`<name>__json`)
    posts the textarea named `<name>` instead. Subclasses turn their inputs into data in `from_builder`.
    """

    class Media:
        js = ["conversations/builders.js"]
        css = {"all": ["conversations/builders.css"]}

    def value_from_datadict(self, data, files, name: str) -> str | None:
        if f"{name}__builder" in data and not data.get(f"{name}__json"):
            return json.dumps(self.from_builder(data, name))
        return data.get(name)

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return name not in data and f"{name}__builder" not in data

    def from_builder(self, data, name: str) -> Any:
        raise NotImplementedError

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["widget"]["json_text"] = _json_text(value)
        context["widget"]["json_invalid"] = isinstance(value, str) and value.strip() != "" and _parsed(value) is None
        return context


def _time_input(value: Any) -> str:
    """A stored "HH:MM" as the 24-hour text box shows it."""
    return str(value or "")


class WeekGridWidget(JsonBuilderWidget):
    """Business hours as a week: Monday to Sunday, open or closed, one or more start-end intervals per day."""

    template_name = "sla/widgets/week_grid.html"

    def from_builder(self, data, name: str) -> list[dict]:
        intervals = []
        for weekday in range(7):
            if not data.get(f"{name}__open_{weekday}"):
                continue
            starts, ends = data.getlist(f"{name}__start_{weekday}"), data.getlist(f"{name}__end_{weekday}")
            intervals += [
                {"weekday": weekday, "start": start.strip()[:5], "end": end.strip()[:5]}
                for start, end in zip(starts, ends)
                if start.strip() or end.strip()
            ]
        return intervals

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        parsed = _parsed(value)
        items = [item for item in parsed if isinstance(item, dict)] if isinstance(parsed, list) else []
        context["widget"]["days"] = [
            {
                "index": weekday,
                "label": label,
                "intervals": [
                    (_time_input(item.get("start")), _time_input(item.get("end")))
                    for item in items
                    if item.get("weekday") == weekday
                ],
            }
            for weekday, label in enumerate(WEEKDAYS)
        ]
        for day in context["widget"]["days"]:
            day["open"] = bool(day["intervals"])
        return context


class DateListWidget(JsonBuilderWidget):
    """Custom closed dates as a list of date pickers (one per date, add and remove rows)."""

    template_name = "sla/widgets/date_list.html"

    def from_builder(self, data, name: str) -> list[str]:
        return [day.strip() for day in data.getlist(f"{name}__date") if day.strip()]

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        parsed = _parsed(value)
        context["widget"]["dates"] = [str(day) for day in parsed] if isinstance(parsed, list) else []
        return context


class ConditionBuilderWidget(forms.Widget):
    """A condition tree (`{"all"/"any": [...]}` of `{"field", "op", "value"}` leaves) edited with the shared
    builder script (conversations/condition_builder.js) over the JSON textarea it keeps up to date.

    `fields` describe what may be compared: `[{"value", "label", "choices": [[value, label], ...]}]`; `operators`
    are `[{"value", "label", "kind"}]` with kind `scalar`, `list` or `none`.
    """

    template_name = "sla/widgets/condition_builder.html"

    @property
    def media(self) -> forms.Media:
        """The builders' scripts after the JavaScript catalog their words come from."""
        return forms.Media(
            js=[reverse("helpdesk-jsi18n"), "conversations/builders.js", "conversations/condition_builder.js"],
            css={"all": ["conversations/builders.css"]},
        )

    def __init__(self, *, fields: Any, operators: list[dict], attrs: dict | None = None):
        super().__init__(attrs)
        self.fields, self.operators = fields, operators

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        fields = self.fields() if callable(self.fields) else self.fields
        context["widget"].update(
            json_text=_json_text(value if value not in (None, "null") else {}),
            spec=json.dumps({"fields": fields, "operators": self.operators}, cls=DjangoJSONEncoder),
        )
        return context
