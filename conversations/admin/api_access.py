"""The "API access" page of the admin (`admin:api_access`, served by the "My preferences" admin, so any project that
installs the apps has it at /admin/conversations/userpreference/api-access/): a support manager sees, creates or regenerates their own DRF token (the
`Authorization: Token <key>` of docs/api.md) without a shell or a superuser.

A token has the rights of its user, so the page only ever shows the signed-in user's own token. Regenerating
deletes the old key first: a leaked key stops working at once.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from conversations.roles import is_manager


def token_of(user: AbstractBaseUser) -> Token | None:
    """The user's current API token, if they have one."""
    return Token.objects.filter(user=user).first()


def token_regenerate(*, user: AbstractBaseUser) -> Token:
    """A new token for the user; any previous key stops working in the same transaction."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def _docs_url() -> str | None:
    """The Swagger UI of the project, when it serves one (the demo does; a host project may not)."""
    try:
        return reverse("swagger-ui")
    except NoReverseMatch:
        return None


def api_access_view(request: HttpRequest, site_name: str = "admin") -> HttpResponse:
    """GET shows the manager's token (or that they have none); POST creates or regenerates it."""
    if not is_manager(request.user):
        raise PermissionDenied
    if request.method == "POST":
        had_token = token_of(request.user) is not None
        token_regenerate(user=request.user)
        messages.success(
            request, _("New API token created; the old one no longer works.") if had_token else _("API token created.")
        )
        return HttpResponseRedirect(reverse(f"{site_name}:api_access"))
    context = {
        **admin.site.each_context(request),
        "title": _("API access"),
        "token": token_of(request.user),
        "api_root": request.build_absolute_uri("/api/"),
        "docs_url": _docs_url(),
    }
    return TemplateResponse(request, "admin/api_access.html", context)
