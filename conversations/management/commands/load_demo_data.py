"""`manage.py load_demo_data`: people, teams, contacts and conversations to click through after `make run`.

Everything in the conversations domain is made through `conversations.services`, so the demo has the same events,
SLA clocks and workflow runs real traffic would have. Running it again creates nothing new: users, teams and
contacts are looked up by their unique names/emails first, and conversations are only made while no demo contact
has one yet. The random choices are seeded, so every machine gets the same demo.

The conversations are a history, not a snapshot: each one opens at a moment of the last 13 days and its replies,
assignment, status change and survey answer follow minutes to hours later, so the reports show real response and
resolution times and the SLA targets of old conversations are met or breached as they would be. The demo workflows
run inline at the moment of the event that started them (VIP routing at the opening, billing triage on the customer's
message), so what they changed is part of the history too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from conversations import services
from conversations.choices import FINAL_DISPOSITIONS, Channel, Disposition, Priority, SenderType, Status
from conversations.events import events_consumed_inline
from conversations.models import AgentProfile, Contact, Conversation, Team
from conversations.roles import AGENTS_GROUP, MANAGERS_GROUP, ensure_roles

DEMO_EMAIL_DOMAIN = "demo.example.com"
TEAM_NAMES = ["Support", "Billing", "Retention", "VIP"]
CONVERSATION_COUNT = 50
HISTORY_DAYS = 13  # inside the reports' default 30-day period


@dataclass(frozen=True)
class DemoAgent:
    username: str
    first_name: str
    teams: tuple[str, ...]
    capacity: int
    status: str  # online / away / offline (docs/routing.md)
    skills: tuple[str, ...] = ()


AGENTS = [
    DemoAgent("alice", "Alice", ("Support", "Billing"), 10, "online", ("english", "billing")),
    DemoAgent("bob", "Bob", ("Support",), 8, "online", ("english", "german")),
    DemoAgent("carol", "Carol", ("Retention", "VIP"), 6, "online", ("english",)),
    DemoAgent("dave", "Dave", ("Billing", "VIP"), 5, "away", ("billing", "french")),
]

# name, phone (E.164), segment, attributes
CONTACTS = [
    ("Ada Lovelace", "+14155550101", "enterprise", {"vip": True, "plan": "enterprise"}),
    ("Grace Hopper", "+14155550102", "enterprise", {"vip": True, "plan": "enterprise", "region": "us-east"}),
    ("Alan Turing", "+447911123456", "smb", {"plan": "pro"}),
    ("Katherine Johnson", "+12025550103", "smb", {"plan": "pro", "language": "en"}),
    ("Linus Torvalds", "+358401234567", "free", {"plan": "free"}),
    ("Margaret Hamilton", "+16175550104", "enterprise", {"vip": True, "plan": "enterprise", "csm": "carol"}),
    ("Tim Berners-Lee", "+447911123457", "smb", {"plan": "pro"}),
    ("Hedy Lamarr", "+4915123456789", "free", {"plan": "free", "language": "de"}),
    ("Dennis Ritchie", "+19085550105", "smb", {"plan": "pro"}),
    ("Barbara Liskov", "+16175550106", "enterprise", {"vip": True, "plan": "enterprise"}),
    ("Ken Thompson", "+19085550107", "free", {}),
    ("Frances Allen", "+19145550108", "smb", {"plan": "pro", "churn_risk": "high"}),
    ("Donald Knuth", "+16505550109", "free", {"plan": "free"}),
    ("Radia Perlman", "+14255550110", "enterprise", {"vip": True, "plan": "enterprise"}),
    ("Guido van Rossum", "+31612345678", "smb", {"plan": "pro", "language": "nl"}),
    ("Sophie Wilson", "+447400123456", "smb", {"plan": "pro"}),
    ("John McCarthy", "+16505550111", "free", {}),
    ("Shafi Goldwasser", "+972502345678", "enterprise", {"vip": True, "plan": "enterprise"}),
    ("Edsger Dijkstra", "+31687654321", "free", {"plan": "free"}),
    ("Joan Clarke", "+447900123456", "smb", {"plan": "pro", "churn_risk": "low"}),
]

# subject, first customer message, tags
TOPICS = [
    ("Cannot log in", "I can't log in since this morning, the password reset mail never arrives.", ["login"]),
    ("Invoice is wrong", "My last invoice charged me twice. Please fix this.", ["billing", "refund"]),
    ("I want to cancel", "I want to cancel my subscription, it is too expensive for us.", ["cancellation"]),
    ("Feature request: dark mode", "It would be great to have a dark mode. Love the product!", ["feature-request"]),
    ("App crashes on upload", "The app crashes whenever I upload a file over 10 MB. Very frustrating.", ["bug"]),
    ("Upgrade to enterprise", "We would like to upgrade to the enterprise plan for 200 seats.", ["sales"]),
    ("Refund request", "I was charged after cancelling. I want my money back now.", ["billing", "refund"]),
    ("How do I export data?", "How can I export all my conversations to CSV?", ["how-to"]),
    ("Thank you!", "Thanks a lot for the quick help yesterday, everything works great.", []),
    ("Slow dashboard", "The dashboard takes 30 seconds to load. This is unacceptable.", ["bug", "performance"]),
]

FOLLOW_UPS = [
    (SenderType.AGENT, "Thanks for reaching out! I'm looking into this right now."),
    (SenderType.CUSTOMER, "Thank you, I appreciate the quick answer."),
    (SenderType.AGENT, "Could you send me a screenshot of what you see?"),
    (SenderType.CUSTOMER, "Still not working, this is really annoying."),
    (SenderType.AGENT, "That should be fixed now. Please let me know if it happens again."),
]

FINAL_STATES = [
    (Status.OPEN, ""),
    (Status.OPEN, ""),
    (Status.PENDING, ""),
    (Status.ON_HOLD, Disposition.NEEDS_APPROVAL),
    (Status.RESOLVED, ""),
    (Status.CLOSED, Disposition.PROBLEM_SOLVED),
    (Status.CLOSED, Disposition.ANSWER_PROVIDED),
    (Status.NEW, ""),
    (Status.CLOSED, Disposition.NEED_MORE_INFORMATION),
    (Status.CLOSED, Disposition.SPAM),
]

SURVEY_QUESTION = "How would you rate the support you received?"
# score, comment: mostly happy customers, a few unhappy ones with a reason
SURVEY_ANSWERS = [
    (5, "Quick and friendly, thank you!"),
    (5, ""),
    (5, ""),
    (5, "Great support."),
    (4, ""),
    (4, ""),
    (4, "Solved, but it took a while."),
    (3, ""),
    (2, "I had to explain my problem twice."),
    (1, "Nobody read my first message."),
]


@contextlib.contextmanager
def happening_at(moment: dt.datetime) -> Iterator[None]:
    """Make `moment` the current time for everything written in the block.

    Creation stamps (`auto_now_add`) read `django.utils.timezone.now` and the product's clock reads it too, so moving
    it gives every row, event, SLA due time and report figure of a past action the moment it happened at, exactly
    as the report tests replay a history.
    """
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


class Timeline:
    """The moments of one conversation's history, from its opening towards now, a random gap apart."""

    def __init__(self, rng: random.Random, opened_at: dt.datetime) -> None:
        self.rng, self.moment = rng, opened_at

    def later(self, low_minutes: int, high_minutes: int) -> contextlib.AbstractContextManager[None]:
        """The next moment, `low_minutes` to `high_minutes` after the last one, as the current time of a block."""
        self.moment += dt.timedelta(minutes=self.rng.randint(low_minutes, high_minutes))
        return happening_at(self.moment)


class Command(BaseCommand):
    help = "Load demo users, teams, contacts and conversations (idempotent; prints the logins)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--demo", action="store_true", help="Required unless DEBUG is on: this creates an admin/admin superuser."
        )

    def handle(self, *args, demo: bool = False, **options) -> None:
        # The wheel ships this command; in a real installation it must not quietly create admin/admin.
        if not (demo or settings.DEBUG):
            raise CommandError(
                "load_demo_data creates the superuser admin/admin and demo people: run it with --demo "
                "(or DEBUG on) on a demo or development database only."
            )
        # django-q2 logs one line per enqueued event at INFO; a few hundred of them would bury the logins.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        ensure_roles()
        self._ensure_user("admin", "admin", superuser=True)
        manager = self._ensure_user("manager", "manager")
        manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
        teams = {name: self._ensure_team(name) for name in TEAM_NAMES}
        agents = [self._ensure_agent(spec, teams) for spec in AGENTS]
        contacts = [self._ensure_contact(*row) for row in CONTACTS]
        if Conversation.objects.filter(contact__email__endswith="@" + DEMO_EMAIL_DOMAIN).exists():
            self.stdout.write("Demo conversations already exist; nothing new created.")
        else:
            self._create_conversations(contacts, agents, teams)
        self._print_logins()

    def _ensure_user(self, username: str, password: str, superuser: bool = False) -> User:
        """Create the user with the demo password; an existing user keeps whatever password it has now."""
        user = User.objects.filter(username=username).first()
        if user is None:
            make = User.objects.create_superuser if superuser else User.objects.create_user
            user = make(username=username, password=password, email=f"{username}@{DEMO_EMAIL_DOMAIN}", is_staff=True)
        return user

    def _ensure_team(self, name: str) -> Team:
        team = Team.objects.filter(name=name).first()
        return team or services.team_create(name=name, email=f"{name.lower()}@{DEMO_EMAIL_DOMAIN}")

    def _ensure_agent(self, spec: DemoAgent, teams: dict[str, Team]) -> User:
        user = self._ensure_user(spec.username, spec.username)
        if not user.first_name:
            User.objects.filter(pk=user.pk).update(first_name=spec.first_name)
        user.groups.add(Group.objects.get(name=AGENTS_GROUP))
        profile, created = AgentProfile.objects.get_or_create(
            user=user, defaults={"capacity": spec.capacity, "status": spec.status, "skills": list(spec.skills)}
        )
        if created:
            profile.teams.set([teams[name] for name in spec.teams])
        return user

    def _ensure_contact(self, name: str, phone: str, segment: str, attributes: dict) -> Contact:
        email = name.lower().replace(" ", ".").replace("-", "") + "@" + DEMO_EMAIL_DOMAIN
        contact = Contact.objects.filter(email=email).first()
        return contact or services.contact_create(
            name=name, email=email, phone=phone, segment=segment, attributes=attributes
        )

    def _create_conversations(self, contacts: list[Contact], agents: list[User], teams: dict[str, Team]) -> None:
        rng = random.Random(20240501)
        channels, priorities = list(Channel.values), list(Priority.values)
        with events_consumed_inline():
            for number in range(CONVERSATION_COUNT):
                self._create_conversation(number, rng, contacts, agents, list(teams.values()), channels, priorities)
        self.stdout.write(f"Created {CONVERSATION_COUNT} demo conversations.")

    def _create_conversation(self, number, rng, contacts, agents, teams, channels, priorities) -> None:
        """One conversation's history: opened, tagged, assigned, 1-5 messages minutes apart, its final status or
        disposition, and for a solved one a satisfaction survey, most of them answered."""
        subject, opening, tags = TOPICS[number % len(TOPICS)]
        contact = contacts[number % len(contacts)]
        status, disposition = FINAL_STATES[number % len(FINAL_STATES)]
        timeline = Timeline(rng, self._opening_moment(rng, status))
        with happening_at(timeline.moment):
            conversation = services.conversation_open(
                contact=contact,
                channel=channels[number % len(channels)],
                subject=subject,
                priority=rng.choice(priorities),
                team=rng.choice(teams),
            )
            services.message_create(conversation=conversation, body=opening, sender_type=SenderType.CUSTOMER)
            if contact.attributes.get("vip"):
                tags = [*tags, "vip"]
            if tags:
                services.conversation_add_tags(conversation=conversation, tags=tags)
        if status == Status.NEW:
            return  # nobody has looked at it yet: an agent reply or an assignment would open it
        assignee = rng.choice(agents)
        with timeline.later(1, 20):
            services.conversation_assign(conversation=conversation, assignee=assignee)
        for sender_type, body in FOLLOW_UPS[: rng.randint(0, 4)]:
            with timeline.later(3, 150):
                author = assignee if sender_type == SenderType.AGENT else None
                services.message_create(conversation=conversation, body=body, sender_type=sender_type, author=author)
        if disposition == Disposition.SPAM:
            with timeline.later(1, 30):  # a final disposition closes the conversation
                services.conversation_set_disposition(conversation=conversation, disposition=disposition)
            return
        if disposition and disposition not in FINAL_DISPOSITIONS:  # e.g. on hold, waiting for an approval
            with timeline.later(1, 30):
                services.conversation_set_disposition(conversation=conversation, disposition=disposition)
        solved = status in (Status.RESOLVED, Status.CLOSED)
        with timeline.later(5, 240):  # a closed conversation was resolved first, as an agent works
            services.conversation_change_status(conversation=conversation, status=Status.RESOLVED if solved else status)
        if solved:
            self._ask_for_satisfaction(rng, timeline, conversation)
        if status == Status.CLOSED:
            with timeline.later(30, 300):  # closed by its final disposition, as the agent files it
                services.conversation_set_disposition(conversation=conversation, disposition=disposition)

    @staticmethod
    def _opening_moment(rng: random.Random, status: str) -> dt.datetime:
        """New conversations arrived in the last hours; the others up to HISTORY_DAYS ago, early enough that the
        longest history (about 30 hours) ends before now."""
        now = timezone.now()
        if status == Status.NEW:
            return now - dt.timedelta(minutes=rng.randint(10, 300))
        return now - dt.timedelta(hours=31) - dt.timedelta(minutes=rng.randint(0, (HISTORY_DAYS - 1) * 24 * 60))

    @staticmethod
    def _ask_for_satisfaction(rng: random.Random, timeline: Timeline, conversation: Conversation) -> None:
        """The survey goes out soon after the resolution; two in three customers answer it within ten hours."""
        with timeline.later(1, 15):
            survey = services.survey_create(conversation=conversation, question=SURVEY_QUESTION)
        if rng.random() < 2 / 3:
            score, comment = rng.choice(SURVEY_ANSWERS)
            with timeline.later(20, 600):
                services.survey_answer(survey=survey, score=score, comment=comment)

    def _print_logins(self) -> None:
        agents = ", ".join(f"{spec.username}/{spec.username}" for spec in AGENTS)
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Log in to /admin/ with:"))
        self.stdout.write("  superuser        admin / admin")
        self.stdout.write("  support manager  manager / manager")
        self.stdout.write(f"  agents           {agents}")
