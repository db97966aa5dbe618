"""Authentication classes of the API (kept apart from conversations.api.base: DRF imports them while its views load).

The token lookup is the first thing every API request pays for, so its statement is compiled once per process
(`TokenLookup`) and only executed per request; see its docstring for why nothing else is cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from conversations.roles import remember_roles, role_annotations

_KEY_SENTINEL = "\x00helpdesk-token-key\x00"


@dataclass(frozen=True)
class TokenLookup:
    """The token + user + role-groups read of one database, compiled once per process from the ORM.

    Why this and not a cache of users: building the query with the ORM (select_related, the role annotations) cost
    about 2 ms of CPU per request, while running the compiled statement over an indexed key costs ~0.1 ms. So the
    statement is what is cached (per database alias and vendor, built from the models, so the ORM stays the one
    source of the schema), and the rows are read on every request. Invalidation is therefore exact and needs no
    signal, trigger or generation counter: a token deleted or rotated (a password change deletes the user's tokens,
    `conversations.tokens`), a user deactivated, or a role group removed or renamed — by this process, another web
    process, a worker or raw SQL — is refused on the very next request, and the query count per request is the
    same as before (one).
    """

    sql: str
    params: tuple
    key_index: int
    token_fields: tuple[str, ...]
    user_fields: tuple[str, ...]
    converters: dict[int, tuple[list, Any]]

    @classmethod
    def compile(cls, model: type[Model], alias: str) -> TokenLookup:
        """Compile `model` (DRF's Token) joined to its user, with the role annotations, for database `alias`."""
        connection = connections[alias]
        quote = connection.ops.quote_name
        user_column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field('user').column)}"
        roles = role_annotations(user_column)
        token_fields = tuple(field.attname for field in model._meta.concrete_fields)
        user_fields = tuple(field.attname for field in get_user_model()._meta.concrete_fields)
        queryset = (
            model.objects.using(alias)
            .filter(key=_KEY_SENTINEL)
            .annotate(**roles)
            .values_list(*token_fields, *(f"user__{name}" for name in user_fields), *roles)
        )
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        return cls(
            sql=sql,
            params=tuple(params),
            key_index=list(params).index(_KEY_SENTINEL),
            token_fields=token_fields,
            user_fields=user_fields,
            converters=converters,
        )

    def fetch(self, key: str, alias: str) -> tuple | None:
        """The converted row for `key` (token columns, user columns, one flag per role group), or None."""
        params = list(self.params)
        params[self.key_index] = key
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (functions, expression) in self.converters.items():
            for convert in functions:
                row[position] = convert(row[position], expression, connection)
        return tuple(row)


_lookups: dict[tuple[str, str, type], TokenLookup] = {}


def token_lookup(model: type[Model], alias: str) -> TokenLookup:
    """The compiled lookup for `model` on `alias`, built on first use in this process."""
    signature = (alias, connections[alias].vendor, model)
    if signature not in _lookups:
        _lookups[signature] = TokenLookup.compile(model, alias)
    return _lookups[signature]


class _RolesRow:
    """What `remember_roles` reads: `_helpdesk_in_<n>` flags."""

    def __init__(self, flags: tuple) -> None:
        for index, flag in enumerate(flags):
            setattr(self, f"_helpdesk_in_{index}", bool(flag))


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` as DRF does it, but the user and their role groups come from one statement
    compiled once per process (`TokenLookup`), so the role permissions cost no query of their own."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        alias = model.objects.db
        lookup = token_lookup(model, alias)
        row = lookup.fetch(key, alias) if isinstance(key, str) and "\x00" not in key else None
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token_count, user_count = len(lookup.token_fields), len(lookup.user_fields)
        user = get_user_model().from_db(alias, lookup.user_fields, row[token_count : token_count + user_count])
        token = model.from_db(alias, lookup.token_fields, row[:token_count])
        model.user.field.set_cached_value(token, user)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(user, _RolesRow(row[token_count + user_count :]))
        return (user, token)


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
