"""The two roles of SPEC §8 as Django groups: agents work conversations, support managers also manage configuration."""
from django.contrib.auth.models import Group, Permission

AGENTS_GROUP = "Agents"
MANAGERS_GROUP = "Support managers"

# Apps whose models agents may work with in admin; managers get every permission of the product's apps.
AGENT_APPS = ("conversations",)
MANAGER_APPS = ("conversations", "sla", "workflows")
AGENT_READ_ONLY_MODELS = ("event",)


def is_manager(user) -> bool:
    """Superusers and members of `Support managers` manage workflows, integrations and SLA."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.groups.filter(name=MANAGERS_GROUP).exists()


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
