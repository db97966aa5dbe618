"""The customer's language comes in with their mail: the tag their client declares (Outlook's Content-Language and
Accept-Language) becomes the contact's language, and a workflow's reply then speaks it."""

from __future__ import annotations

from conversations import services
from conversations.models import Contact, Conversation
from tests.support.mail import make_mail, post_mail
from tests.support.runs import drain


def mail_declaring(header: str, value: str, **fields) -> bytes:
    """A mail whose client declares its language in a top-level header, as Outlook does."""
    return make_mail(**fields).replace(b"\nTo:", f"\n{header}: {value}\nTo:".encode(), 1)


def test_a_new_contact_takes_the_language_its_mail_declares(inbound_client, inbox):
    answer = post_mail(
        inbound_client, inbox, mail_declaring("Content-Language", "de-DE", sender="Jonas Weber <jonas@kunde.test>")
    )
    assert answer.status_code == 202
    assert Contact.objects.get(email="jonas@kunde.test").language == "de-de"


def test_an_existing_contact_without_a_language_gets_it_and_keeps_a_chosen_one(inbound_client, inbox):
    quiet = services.contact_create(name="Jeanne", email="jeanne@client.test")
    chosen = services.contact_create(name="Ana", email="ana@cliente.test", language="es")
    post_mail(inbound_client, inbox, mail_declaring("Accept-Language", "fr-FR, en", sender="jeanne@client.test"))
    post_mail(inbound_client, inbox, mail_declaring("Content-Language", "pt-BR", sender="ana@cliente.test"))
    quiet.refresh_from_db()
    chosen.refresh_from_db()
    assert (quiet.language, chosen.language) == ("fr-fr", "es")


def test_a_mail_that_declares_nothing_sets_nothing(inbound_client, inbox):
    post_mail(inbound_client, inbox, make_mail(sender="bo@customer.test"))
    assert Contact.objects.get(email="bo@customer.test").language == ""


def test_the_workflow_reply_speaks_the_language_of_the_mail(inbound_client, inbox, make_workflow):
    make_workflow(
        "message.created",
        [
            {
                "type": "auto_reply",
                "config": {
                    "text": "Thanks, we got your mail.",
                    "translations": {"de": {"text": "Danke, Ihre Mail ist da."}},
                },
            }
        ],
        {"sender_types": ["customer"]},
    )
    answer = post_mail(
        inbound_client, inbox, mail_declaring("Content-Language", "de-AT", sender="Jonas <jonas@kunde.test>")
    )
    drain()
    conversation = Conversation.objects.get(pk=answer.json()["conversation"])
    assert conversation.messages.get(sender_type="ai").body == "Danke, Ihre Mail ist da."
