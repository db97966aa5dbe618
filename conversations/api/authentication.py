"""Authentication classes of the API (kept apart from conversations.api.base: DRF imports them while its views load)."""
from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from conversations.roles import remember_roles, role_annotations


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` as DRF does it, but the user's role groups are read in the same query, so the
    role permissions below cost no query of their own (one round trip fewer on every API request)."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        quote = connection.ops.quote_name
        roles = role_annotations(f"{quote(model._meta.db_table)}.{quote(model._meta.get_field('user').column)}")
        try:
            token = model.objects.select_related("user").annotate(**roles).get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(token.user, token)
        return (token.user, token)


class BearerTokenAuthentication(TokenAuthentication):
    """The same token as `Authorization: Bearer <key>`, the scheme OpenAPI client generators and most HTTP tools
    send by default (RFC 6750 spelling); `Token <key>` keeps working."""

    keyword = "Bearer"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The schema names the Bearer spelling as HTTP bearer auth, which client generators understand."""

    target_class = "conversations.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The API token: `Authorization: Bearer <key>`."}
