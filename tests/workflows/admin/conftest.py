"""Fixtures of the workflow admin tests."""

import pytest

from workflows.integrations.services import integration_save


@pytest.fixture
def crm_integration(db):
    """The CRM integration the VIP form's request names (a step reads only the secrets of the integration it names,
    and calls only its host)."""
    return integration_save(name="CRM", base_url="https://crm.example.com/api/", secrets={"crm_token": "t0k3n-crm"})
