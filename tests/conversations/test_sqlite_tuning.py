"""A host project's plain SQLite settings get WAL, a busy timeout and IMMEDIATE transactions from the apps; a project
that chose its own options keeps them."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.test.utils import CaptureQueriesContext

from conversations import sqlite_tuning

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


def test_cursors_convert_each_statement_text_once_with_the_same_results(tmp_path):
    """Placeholders are converted through a per-process cache: the same rows as Django's own conversion, a literal
    `%%` still reads as `%`, named parameters still work, and the query log still sees every statement."""
    wrapper = open_wrapper(tmp_path, {})
    try:
        sql = "SELECT %s + 1, '100%%', %s || 'x' /* cache probe */"
        with wrapper.cursor() as cursor:
            cursor.execute(sql, [41, "a"])
            assert cursor.fetchone() == (42, "100%", "ax")
        assert sqlite_tuning._converted[sql] == "SELECT ? + 1, '100%', ? || 'x' /* cache probe */"
        with CaptureQueriesContext(wrapper) as captured, wrapper.cursor() as cursor:
            cursor.execute(sql, [1, "b"])
            assert cursor.fetchone() == (2, "100%", "bx")
            cursor.execute("SELECT %(n)s * 2", {"n": 21})
            assert cursor.fetchone() == (42,)
        assert [query["sql"].startswith("SELECT") for query in captured.captured_queries] == [True, True]
    finally:
        wrapper.close()


def test_the_placeholder_cache_stays_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_tuning, "PLACEHOLDER_CACHE_SIZE", 3)
    monkeypatch.setattr(sqlite_tuning, "_converted", {})
    wrapper = open_wrapper(tmp_path, {})
    try:
        with wrapper.cursor() as cursor:
            for n in range(10):
                cursor.execute(f"SELECT %s + {n}", [1])
                assert cursor.fetchone() == (1 + n,)
        assert 1 <= len(sqlite_tuning._converted) <= 3
    finally:
        wrapper.close()
