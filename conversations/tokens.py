"""API tokens follow their user's password (issue 25): a password change deletes the user's tokens, so a token
handed out (or stolen) before it stops working; the user signs in again and creates a new one.

The hook is a `pre_save` receiver on the user model that only compares the stored password hash with the one being
saved and calls the service; every way a password changes (admin, `changepassword`, `set_password` + save, a password
reset) goes through a save of the user row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model


def user_tokens_revoke(*, user: Any) -> int:
    """Delete every API token of `user`; returns how many there were."""
    from rest_framework.authtoken.models import Token  # authtoken's models load only once apps are ready

    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def revoke_tokens_on_password_change(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """pre_save of the user model: when the password hash changes, revoke the user's tokens (not for fixtures)."""
    if raw or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "password" not in update_fields:
        return
    stored = get_user_model().objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        user_tokens_revoke(user=instance)
