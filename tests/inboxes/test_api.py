"""`/api/inboxes/` (docs/channels.md): managers make and change inboxes; passwords and secrets are sealed and never read
back; the inbound token is shown once; agents get 403."""

from __future__ import annotations

from conversations.models import Inbox
from inboxes.services import inbox_check_token, inbox_secret

EMAIL_BODY = {
    "name": "Support",
    "channel": "email",
    "address": "support@helpdesk.test",
    "imap": {
        "host": "imap.example.com",
        "port": 993,
        "username": "support",
        "password": "imap-pw",
        "ssl": True,
        "folder": "INBOX",
    },
    "smtp": {"host": "smtp.example.com", "port": 587, "username": "support", "password": "smtp-pw", "starttls": True},
}


def test_a_manager_creates_an_email_inbox_and_sees_the_token_once(manager_client, team):
    response = manager_client.post("/api/inboxes/", {**EMAIL_BODY, "team": team.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    inbox = Inbox.objects.get(pk=body["id"])
    assert inbox_check_token(inbox=inbox, token=body["inbound_token"])
    assert inbox.team == team and inbox.imap["host"] == "imap.example.com"
    assert "imap-pw" not in inbox.secrets_encrypted and "imap-pw" not in str(inbox.imap)
    assert inbox_secret(inbox, "imap_password") == "imap-pw" and inbox_secret(inbox, "smtp_password") == "smtp-pw"
    read = manager_client.get(f"/api/inboxes/{inbox.pk}/").json()
    assert "inbound_token" not in read and "imap-pw" not in str(read) and "smtp-pw" not in str(read)
    assert read["imap"]["has_password"] is True and read["smtp"]["has_password"] is True


def test_an_api_inbox_gets_a_generated_secret_shown_once(manager_client):
    body = manager_client.post(
        "/api/inboxes/",
        {"name": "Widget", "channel": "api", "callback_url": "https://widget.example.com/hook"},
        format="json",
    ).json()
    assert body["secret"].startswith("whsec_") and body["has_secret"] is True
    assert "secret" not in manager_client.get(f"/api/inboxes/{body['id']}/").json()


def test_a_patch_keeps_the_password_it_does_not_mention(manager_client):
    inbox_id = manager_client.post("/api/inboxes/", EMAIL_BODY, format="json").json()["id"]
    response = manager_client.patch(
        f"/api/inboxes/{inbox_id}/", {"imap": {"host": "imap2.example.com", "username": "support"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    inbox = Inbox.objects.get(pk=inbox_id)
    assert inbox.imap["host"] == "imap2.example.com" and inbox_secret(inbox, "imap_password") == "imap-pw"


def test_bad_bodies_are_400_naming_the_field(manager_client):
    cases = [
        ({"name": "x", "channel": "fax"}, "channel"),
        ({"name": "x", "channel": "email"}, "address"),
        ({"name": "x", "channel": "email", "address": "not-an-address"}, "address"),
        ({**EMAIL_BODY, "imap": {"host": "h", "port": "many"}}, "imap"),
        ({**EMAIL_BODY, "imap": "imap.example.com"}, "imap"),
        ({"name": "x", "channel": "api", "callback_url": "ftp://x"}, "callback_url"),
        ({"name": "x", "channel": "email", "address": "a@b.test", "team": "No such team"}, "team"),
    ]
    for body, field in cases:
        response = manager_client.post("/api/inboxes/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), (body, response.json())


def test_agents_may_not_manage_inboxes(agent_client, inbox):
    assert agent_client.get("/api/inboxes/").status_code == 403
    assert agent_client.post("/api/inboxes/", EMAIL_BODY, format="json").status_code == 403


def test_rotating_the_token_retires_the_old_one(manager_client, inbox_and_token):
    inbox, old = inbox_and_token
    new = manager_client.post(f"/api/inboxes/{inbox.pk}/rotate-token/").json()["inbound_token"]
    inbox.refresh_from_db()
    assert inbox_check_token(inbox=inbox, token=new) and not inbox_check_token(inbox=inbox, token=old)


def test_an_inbox_with_conversations_is_not_deleted(manager_client, inbox, inbound_client):
    from tests.support.mail import make_mail, post_mail

    post_mail(inbound_client, inbox, make_mail())
    response = manager_client.delete(f"/api/inboxes/{inbox.pk}/")
    assert response.status_code == 400 and "deactivate" in str(response.json())
    assert manager_client.patch(f"/api/inboxes/{inbox.pk}/", {"active": False}, format="json").status_code == 200
    empty = manager_client.post("/api/inboxes/", {"name": "Spare", "channel": "api"}, format="json").json()
    assert manager_client.delete(f"/api/inboxes/{empty['id']}/").status_code == 204


def test_the_imap_poll_schedule_is_written_once(db):
    from django_q.models import Schedule

    from inboxes.tasks import POLL_SCHEDULE_NAME, POLL_TASK, ensure_poll_schedule

    ensure_poll_schedule()
    ensure_poll_schedule()
    schedule = Schedule.objects.get(name=POLL_SCHEDULE_NAME)
    assert schedule.func == POLL_TASK and schedule.minutes == 1 and schedule.repeats == -1
