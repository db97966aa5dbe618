"""A host project's plain SQLite settings get WAL, a busy timeout and IMMEDIATE transactions from the apps; a project
that chose its own options keeps them."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = [
    pytest.mark.skipif(connections["default"].vendor != "sqlite", reason="SQLite connections only"),
    pytest.mark.django_db,
]


def open_wrapper(tmp_path, options: dict) -> DatabaseWrapper:
    wrapper = DatabaseWrapper(
        {**connections["default"].settings_dict, "NAME": str(tmp_path / "host.sqlite3"), "OPTIONS": options},
        alias="host",
    )
    wrapper.ensure_connection()
    return wrapper


def pragma(wrapper: DatabaseWrapper, name: str):
    return wrapper.connection.execute(f"PRAGMA {name}").fetchone()[0]


def test_startproject_sqlite_gets_wal_busy_timeout_and_immediate(tmp_path):
    wrapper = open_wrapper(tmp_path, {})
    try:
        assert pragma(wrapper, "journal_mode") == "wal"
        assert pragma(wrapper, "busy_timeout") == 20_000
        assert pragma(wrapper, "synchronous") == 1  # NORMAL
        assert wrapper.transaction_mode == "IMMEDIATE"
    finally:
        wrapper.close()


def test_the_projects_own_options_win(tmp_path):
    wrapper = open_wrapper(tmp_path, {"timeout": 3, "transaction_mode": "DEFERRED", "init_command": ""})
    try:
        assert pragma(wrapper, "journal_mode") == "delete"
        assert pragma(wrapper, "busy_timeout") == 3_000
        assert wrapper.transaction_mode == "DEFERRED"
    finally:
        wrapper.close()


def test_the_tuning_can_be_turned_off(tmp_path, settings):
    settings.HELPDESK_SQLITE_TUNING = False
    wrapper = open_wrapper(tmp_path, {})
    try:
        assert pragma(wrapper, "journal_mode") == "delete"
        assert wrapper.transaction_mode is None
    finally:
        wrapper.close()
