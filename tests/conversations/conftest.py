"""Fixtures for the conversations API tests: a factory of conversations made through the service layer."""

import pytest

from conversations import services


@pytest.fixture
def open_conversation(contact):
    """Open conversations through the service layer, as an API client or a workflow would."""

    def make(**overrides):
        values = {"contact": contact, "channel": "email", "subject": "Help"} | overrides
        return services.conversation_open(**values)

    return make
