"""`/favicon.ico` answers with an icon instead of a 404 on every page (issue 25, item 11)."""

from django.test import Client


def test_the_favicon_is_served():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in response["Cache-Control"]


def test_only_reads_are_allowed():
    assert Client().post("/favicon.ico").status_code == 405
