"""Contacts over the API: create, read, merge attributes, phone validation, filters."""

from conversations.models import Contact, Event


def test_create_contact_returns_201_with_id_and_normalised_phone(agent_client):
    response = agent_client.post(
        "/api/contacts/",
        {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "phone": "+1 415 555 0199",
            "segment": "smb",
            "attributes": {"plan": "pro"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] > 0
    assert body["phone"] == "+14155550199"
    assert body["attributes"] == {"plan": "pro"}
    event = Event.objects.get(type="contact.created", contact_id=body["id"])
    assert event.depth == 0


def test_patch_attributes_merges_keys_and_null_removes(agent_client, contact):
    response = agent_client.patch(
        f"/api/contacts/{contact.pk}/", {"attributes": {"plan": None, "language": "de"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["attributes"] == {"vip": True, "language": "de"}
    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "language": "de"}
    event = Event.objects.get(type="contact.updated")
    assert sorted(event.payload["attributes"]) == ["language", "plan"]
    assert event.depth == 0


def test_patch_name_keeps_attributes(agent_client, contact):
    response = agent_client.patch(f"/api/contacts/{contact.pk}/", {"name": "Ada King"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Ada King"
    assert response.json()["attributes"] == {"vip": True, "plan": "enterprise"}


def test_put_replaces_attributes(agent_client, contact):
    response = agent_client.put(
        f"/api/contacts/{contact.pk}/", {"name": "Ada", "attributes": {"tier": 2}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["attributes"] == {"tier": 2}


def test_list_and_retrieve_contacts(agent_client, contact):
    listing = agent_client.get("/api/contacts/").json()
    assert listing["count"] == 1
    assert listing["results"][0]["email"] == "ada@example.com"
    assert agent_client.get(f"/api/contacts/{contact.pk}/").json()["name"] == "Ada Lovelace"


def test_contact_filters_by_email_segment_and_search(agent_client, contact):
    agent_client.post("/api/contacts/", {"name": "Bob", "email": "bob@example.org", "segment": "smb"}, format="json")
    assert [c["name"] for c in agent_client.get("/api/contacts/?segment=smb").json()["results"]] == ["Bob"]
    assert [c["name"] for c in agent_client.get("/api/contacts/?email=ADA@example.com").json()["results"]] == [
        "Ada Lovelace"
    ]
    assert [c["name"] for c in agent_client.get("/api/contacts/?search=example.org").json()["results"]] == ["Bob"]


def test_bad_phone_is_400_naming_the_field(agent_client):
    response = agent_client.post("/api/contacts/", {"name": "X", "phone": "12345"}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()
    response = agent_client.post("/api/contacts/", {"name": "X", "phone": "+999 1"}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()
    assert not Contact.objects.filter(name="X").exists()


def test_attributes_must_be_an_object(agent_client, contact):
    response = agent_client.patch(f"/api/contacts/{contact.pk}/", {"attributes": [1, 2]}, format="json")
    assert response.status_code == 400
    assert "attributes" in response.json()


def test_contact_name_required_and_email_checked(agent_client):
    response = agent_client.post("/api/contacts/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"name", "email"}


def test_unknown_contact_field_is_400(agent_client, contact):
    response = agent_client.patch(f"/api/contacts/{contact.pk}/", {"nmae": "typo"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"nmae": ["Unknown field."]}


def test_contacts_are_not_deleted(agent_client, contact):
    assert agent_client.delete(f"/api/contacts/{contact.pk}/").status_code == 405
    assert Contact.objects.filter(pk=contact.pk).exists()
