"""The two roles (docs/api.md) as Django groups: agents work conversations, support managers also manage
configuration."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

AGENTS_GROUP = "Agents"
MANAGERS_GROUP = "Support managers"
ROLE_GROUPS = (AGENTS_GROUP, MANAGERS_GROUP)

# Apps whose models agents may work with in admin; managers get every permission of the product's apps.
AGENT_APPS = ("conversations",)
MANAGER_APPS = ("conversations", "sla", "workflows")
AGENT_READ_ONLY_MODELS = ("event",)


# Where an authentication backend may leave the user's role groups, read along with the user (see
# `role_annotations`), so a permission check costs no query of its own.
ROLES_ATTRIBUTE = "_helpdesk_roles"


def role_annotations(user_id_column: str) -> dict[str, RawSQL]:
    """Annotations telling whether the user whose id is in `user_id_column` (a quoted `"table"."column"`) is in each
    role group: `{"_helpdesk_in_<n>": EXISTS(...)}`. Authentication reads them with the user, then `remember_roles`.
    Raw SQL on purpose: building the same `Exists()` with the ORM costs more Python time than the query it saves."""
    quote = connection.ops.quote_name
    through = get_user_model().groups.through._meta
    membership, group = quote(through.db_table), quote(Group._meta.db_table)
    group_id, user_id = (quote(through.get_field(name).column) for name in ("group", "user"))
    sql = (
        f"EXISTS (SELECT 1 FROM {membership} INNER JOIN {group} ON {group}.{quote('id')} = {membership}.{group_id} "
        f"WHERE {membership}.{user_id} = {user_id_column} AND {group}.{quote('name')} = %s)"
    )
    return {
        f"_helpdesk_in_{index}": RawSQL(sql, (name,), output_field=BooleanField())
        for index, name in enumerate(ROLE_GROUPS)
    }


def remember_roles(user, row) -> None:
    """Keep on `user` the role groups `role_annotations` read on `row` (valid for this request's user object)."""
    setattr(
        user,
        ROLES_ATTRIBUTE,
        frozenset(name for index, name in enumerate(ROLE_GROUPS) if getattr(row, f"_helpdesk_in_{index}", False)),
    )


def has_role(user, *groups: str) -> bool:
    """Superusers, and members of any of `groups`; one query unless authentication already read the roles."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    roles = getattr(user, ROLES_ATTRIBUTE, None)
    if roles is not None:
        return bool(roles.intersection(groups))
    return user.groups.filter(name__in=groups).exists()


def is_manager(user) -> bool:
    """Superusers and members of `Support managers` manage workflows, integrations and SLA."""
    return has_role(user, MANAGERS_GROUP)


def is_agent(user) -> bool:
    """Agents, support managers and superusers work conversations."""
    return has_role(user, AGENTS_GROUP, MANAGERS_GROUP)


def ensure_roles() -> None:
    """Create or refresh the role groups and their model permissions (safe to run any number of times)."""
    agents, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
    agent_perms = Permission.objects.filter(content_type__app_label__in=AGENT_APPS).exclude(
        content_type__model__in=AGENT_READ_ONLY_MODELS, codename__regex=r"^(add|change|delete)_"
    )
    agents.permissions.set(agent_perms)
    managers, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    managers.permissions.set(Permission.objects.filter(content_type__app_label__in=MANAGER_APPS))


def ensure_roles_after_migrate(**kwargs) -> None:
    """post_migrate receiver: permissions exist only after migrate, so the groups are refreshed then."""
    ensure_roles()
