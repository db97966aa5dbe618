"""The API channel (docs/channels.md): answers POSTed to the inbox's callback, signed (Standard Webhooks), retried."""

import datetime as dt
import json

import pytest
from standardwebhooks.webhooks import Webhook
from werkzeug import Response

from conversations import clock, services
from conversations.choices import DeliveryStatus, SenderType
from conversations.models import Delivery
from inboxes.outbound import worker
from workflows.models import Endpoint

pytestmark = pytest.mark.django_db


def answer(conversation, capture, **kwargs):
    with capture(execute=True):
        return services.message_create(
            conversation=conversation,
            body="Here is your answer.",
            sender_type=kwargs.pop("sender_type", SenderType.AGENT),
            **kwargs,
        )


def test_answer_is_posted_signed(api_conversation, httpserver, callback_secret, django_capture_on_commit_callbacks):
    httpserver.expect_oneshot_request("/hooks/answers", method="POST").respond_with_data("ok")

    message = answer(api_conversation, django_capture_on_commit_callbacks)

    [(request, _)] = httpserver.log
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.SENT and delivery.external_id.startswith("msg_")
    headers = {key.lower(): value for key, value in request.headers.items()}
    payload = Webhook(callback_secret).verify(request.get_data(), headers)  # raises when the signature is wrong
    assert headers["webhook-id"] == delivery.external_id
    assert payload["type"] == "message.created" and payload["id"] == delivery.external_id
    assert payload["data"]["message"]["id"] == message.pk
    assert payload["data"]["message"]["body"] == "Here is your answer."
    assert payload["data"]["conversation"]["id"] == api_conversation.pk
    assert payload["data"]["contact"]["email"] == "ada@example.com"
    endpoint = Endpoint.objects.get()
    assert endpoint.url.endswith("/hooks/answers") and endpoint.attempts == 1 and endpoint.failures == 0


def test_server_error_is_retried_with_the_same_webhook_id(
    api_conversation, httpserver, callback_secret, django_capture_on_commit_callbacks
):
    httpserver.expect_ordered_request("/hooks/answers").respond_with_response(Response("down", status=500))
    httpserver.expect_ordered_request("/hooks/answers").respond_with_data("ok")

    message = answer(api_conversation, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.QUEUED and "500" in delivery.error
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: delivery.next_attempt_at + dt.timedelta(seconds=1))
        assert worker.sweep_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log]
    assert ids == [delivery.external_id, delivery.external_id]
    for request, _ in httpserver.log:
        Webhook(callback_secret).verify(request.get_data(), dict(request.headers))
    endpoint = Endpoint.objects.get()
    assert (endpoint.attempts, endpoint.failures, endpoint.consecutive_failures) == (2, 1, 0)


def test_client_error_fails_the_delivery(api_conversation, httpserver, django_capture_on_commit_callbacks):
    httpserver.expect_request("/hooks/answers").respond_with_response(Response("no", status=410))
    message = answer(api_conversation, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.FAILED and "410" in delivery.error


def test_workflow_answer_is_posted_but_customer_message_is_not(
    api_conversation, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hooks/answers").respond_with_data("ok")
    answer(api_conversation, django_capture_on_commit_callbacks, sender_type=SenderType.AI)
    answer(api_conversation, django_capture_on_commit_callbacks, sender_type=SenderType.CUSTOMER)
    bodies = [json.loads(request.get_data())["data"]["message"]["sender_type"] for request, _ in httpserver.log]
    assert bodies == ["ai"]


def test_loopback_callback_is_blocked_without_the_allowlist(
    api_conversation, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    message = answer(api_conversation, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.FAILED and "Blocked" in delivery.error
    assert httpserver.log == []
