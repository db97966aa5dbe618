"""`manage.py load_demo_workflows`: what a support manager finds configured in the demo (`make run`): an office-hours
calendar, two SLA policies and a few active workflows taken from the templates gallery. Idempotent: anything that
exists by name is left alone. `make run` calls it before `load_demo_data`, so the demo conversations start runs and
SLA clocks the way real traffic would.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from conversations import services as conversation_services
from conversations.models import Team
from sla.models import BusinessHours, SlaPolicy
from sla.policies import business_hours_save, sla_policy_save
from workflows import services
from workflows.choices import WorkflowStatus
from workflows.engine import canned, macros
from workflows.gallery import catalog as gallery
from workflows.models import CannedResponse, Macro, Workflow

# The macros agents find on a conversation (docs/agent_day.md): each a set of internal steps, some asking an input first.
DEMO_MACROS = [
    {
        "name": "Refund issued",
        "inputs": [
            {"key": "order", "label": "Order number", "type": "text"},
            {"key": "amount", "label": "Amount (EUR)", "type": "number"},
        ],
        "steps": [
            {"type": "add_tag", "config": {"tags": ["refund"]}},
            {
                "type": "auto_reply",
                "config": {
                    "text": "Hi {{ contact.name }}, we refunded {{ inputs.amount }} EUR "
                    "for order {{ inputs.order }}. It shows on your statement "
                    "within 5 working days."
                },
            },
            {"type": "change_status", "config": {"status": "pending"}},
        ],
    },
    {
        "name": "Ask for the order number",
        "inputs": [],
        "steps": [
            {
                "type": "auto_reply",
                "config": {
                    "text": "Hi {{ contact.name }}, could you send us your order number so we can look into this?"
                },
            },
            {"type": "add_tag", "config": {"tags": ["waiting-on-customer"]}},
            {"type": "change_status", "config": {"status": "pending"}},
        ],
    },
    {
        "name": "Shipping delay",
        "inputs": [{"key": "ship_date", "label": "New ship date", "type": "date"}],
        "steps": [
            {"type": "add_tag", "config": {"tags": ["shipping"]}},
            {
                "type": "auto_reply",
                "config": {
                    "text": "Hi {{ contact.name }}, sorry for the wait: your order now ships on {{ inputs.ship_date }}."
                },
            },
            {"type": "change_status", "config": {"status": "pending"}},
        ],
    },
    {
        "name": "Escalate to billing",
        "inputs": [],
        "steps": [
            {"type": "set_priority", "config": {"priority": "high"}},
            {"type": "route", "config": {"team": "Billing", "strategy": "least_busy"}},
            {"type": "add_tag", "config": {"tags": ["billing"]}},
        ],
    },
    {
        "name": "Spam",
        "inputs": [],
        "steps": [
            {"type": "add_tag", "config": {"tags": ["spam"]}},
            {"type": "change_status", "config": {"status": "closed"}},
        ],
    },
]
# The canned responses agents insert into the reply box (docs/agent_day.md "Canned responses").
DEMO_CANNED = [
    ("Greeting", "Hi {{ contact.name }},\n\nthanks for getting in touch. "),
    ("Looking into it", "We are looking into this now and will get back to you today."),
    (
        "Anything else?",
        "Is there anything else we can help you with? If not, we will close this conversation in a few days.",
    ),
    (
        "Password reset",
        'You can reset your password from the sign-in page with "Forgot password?"; the link in '
        "the email is valid for one hour.",
    ),
]
DEMO_TEMPLATES = (
    "vip-auto-route",
    "negative-sentiment-escalation",
    "spam-close",
    "sla-breach-escalation",
    "billing-triage",
    "resolved-survey",
)
WEEKDAYS = range(5)


class Command(BaseCommand):
    help = "Create the demo's SLA calendar and policies and activate a few gallery workflows (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            self._teams_the_templates_route_to()
            office = self._office_hours()
            created = self._policies(office) + self._workflows() + self._macros() + self._canned()
        self.stdout.write(
            f"Demo configuration ready ({created} created): SLA policies and "
            f"{Workflow.objects.filter(status=WorkflowStatus.ACTIVE).count()} active workflows."
        )

    def _teams_the_templates_route_to(self) -> None:
        for name in ("Escalations", "VIP Support", "Billing", "Support"):
            if not Team.objects.filter(name=name).exists():
                conversation_services.team_create(name=name)

    def _office_hours(self) -> BusinessHours:
        existing = BusinessHours.objects.filter(name="Office hours (Berlin)").first()
        return existing or business_hours_save(
            name="Office hours (Berlin)",
            timezone="Europe/Berlin",
            intervals=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in WEEKDAYS],
            holidays_country="DE",
            holidays_subdivision="BE",
            extra_holidays=["2026-12-24", "2026-12-31"],
        )

    def _policies(self, office: BusinessHours) -> int:
        policies = [
            {
                "name": "VIP",
                "position": 1,
                "business_hours": None,
                "match": {"all": [{"field": "contact.segment", "op": "eq", "value": "vip"}]},
                "targets": {"first_response": 15, "next_response": 30, "resolution": 240},
            },
            {
                "name": "Standard",
                "position": 10,
                "business_hours": office,
                "match": {},
                "targets": {"first_response": 60, "next_response": 120, "resolution": 1440},
            },
        ]
        created = 0
        for values in policies:
            if not SlaPolicy.objects.filter(name=values["name"]).exists():
                sla_policy_save(pause_on=["pending", "on_hold"], warning_percent=80, **values)
                created += 1
        return created

    def _workflows(self) -> int:
        created = 0
        for slug in DEMO_TEMPLATES:
            template = gallery.get_template(slug)
            if Workflow.objects.filter(name=template.name).exists():
                continue
            workflow = gallery.template_use(slug=slug)
            services.workflow_set_status(workflow=workflow, status=WorkflowStatus.ACTIVE)
            created += 1
        return created

    def _canned(self) -> int:
        created = 0
        for name, body in DEMO_CANNED:
            if not CannedResponse.objects.filter(name=name, owner=None).exists():
                canned.canned_response_create(name=name, body=body)
                created += 1
        return created

    def _macros(self) -> int:
        created = 0
        for values in DEMO_MACROS:
            if not Macro.objects.filter(name=values["name"]).exists():
                macros.macro_create(**values)
                created += 1
        return created
