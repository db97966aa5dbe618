"""Admin of inboxes: passwords are write-only (blank keeps them), the inbound token is shown once after saving,
"Test connection" names the server and step that failed; agents cannot open the page."""

from __future__ import annotations

from django.contrib.messages import get_messages

from conversations.models import Inbox
from inboxes.services import inbox_check_token, inbox_secret
from tests.infra.servers import free_port

FORM = {
    "name": "Mail",
    "channel": "email",
    "address": "support@helpdesk.test",
    "active": "on",
    "imap_host": "127.0.0.1",
    "imap_port": "0",
    "imap_username": "support",
    "imap_password": "s3cret",
    "imap_folder": "INBOX",
    "smtp_host": "",
    "smtp_port": "",
    "smtp_username": "",
    "smtp_password": "",
    "secret": "",
    "callback_url": "",
    "team": "",
}


def test_adding_an_inbox_shows_its_token_once_and_seals_the_password(manager_browser):
    response = manager_browser.post("/admin/conversations/inbox/add/", {**FORM, "imap_port": "993"}, follow=True)
    assert response.status_code == 200
    inbox = Inbox.objects.get(name="Mail")
    shown = [str(m) for m in get_messages(response.wsgi_request) if "inbound token" in str(m)]
    assert len(shown) == 1
    token = shown[0].split("inbound token is ")[1].split(" ")[0]
    assert inbox_check_token(inbox=inbox, token=token)
    assert inbox_secret(inbox, "imap_password") == "s3cret"
    page = manager_browser.get(f"/admin/conversations/inbox/{inbox.pk}/change/").content.decode()
    assert "s3cret" not in page and token not in page and "Test connection" in page


def test_saving_with_a_blank_password_keeps_it(manager_browser):
    manager_browser.post("/admin/conversations/inbox/add/", {**FORM, "imap_port": "993"})
    inbox = Inbox.objects.get(name="Mail")
    response = manager_browser.post(
        f"/admin/conversations/inbox/{inbox.pk}/change/",
        {**FORM, "imap_port": "993", "imap_password": "", "name": "Mail 2"},
    )
    assert response.status_code == 302
    inbox.refresh_from_db()
    assert inbox.name == "Mail 2" and inbox_secret(inbox, "imap_password") == "s3cret"


def test_a_form_error_sits_on_its_field(manager_browser):
    response = manager_browser.post("/admin/conversations/inbox/add/", {**FORM, "address": "", "imap_port": "993"})
    assert response.status_code == 200
    assert "address" in response.context["adminform"].form.errors


def test_test_connection_names_what_failed(manager_browser, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    manager_browser.post("/admin/conversations/inbox/add/", {**FORM, "imap_port": str(free_port())})
    inbox = Inbox.objects.get(name="Mail")
    response = manager_browser.post(f"/admin/conversations/inbox/{inbox.pk}/test-connection/", follow=True)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("Test connection: IMAP 127.0.0.1") and "could not connect" in t for t in texts), texts
    assert any(t.startswith("Test connection: SMTP 127.0.0.1") and "could not connect" in t for t in texts), texts


def test_agents_cannot_open_inboxes_in_admin(agent_browser):
    assert agent_browser.get("/admin/conversations/inbox/").status_code == 403
