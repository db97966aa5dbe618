"""User-supplied regular expressions (a trigger's `content_regex`, the `matches` condition operator, SLA policy
matches), run by RE2 instead of Python's backtracking `re`.

RE2 guarantees time linear in the text: `(a+)+$` over a 37-character message costs microseconds instead of
stalling a worker for minutes. The price is a smaller syntax: no back-references (`\\1`) and no look-around
(`(?=`, `(?!`, `(?<=`, `(?<!`), which `pattern_error` reports at save time. Matching is case-insensitive, as
managers expect from every other text condition. It lives in the bottom app so the SLA policies (which cannot
import the workflow engine) use the same engine and the same validation.

On SQLite, Django implements the `regex`/`iregex` lookups with a Python `REGEXP` function built on `re`;
`install_sqlite_regexp` replaces it on every new connection, so the database side of a condition is linear too.
PostgreSQL's `~*` is its own automaton-based engine, which needs no replacement for patterns without
back-references (and RE2 validation keeps those out).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 1000
MAX_PROGRAM_BYTES = 1 << 20  # RE2's compiled-program budget: a pattern that needs more is refused at save time
UNSUPPORTED_HINT = (
    "Patterns run on RE2 (linear time): no back-references (\\1), no look-ahead or look-behind ((?=, (?!, (?<=, (?<!)."
)


class PatternError(ValueError):
    """A pattern RE2 cannot compile (syntax, unsupported feature or size); the message says which."""


def _options(case_sensitive: bool) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    return options


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, case_sensitive: bool = False) -> Any:
    """The compiled RE2 program of `pattern`, case-insensitive unless asked (cached: triggers see every message)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"A regular expression has at most {MAX_PATTERN_LENGTH} characters.")
    try:
        return re2.compile(pattern, _options(case_sensitive))
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"Invalid regular expression: {reason}. {UNSUPPORTED_HINT}") from None


def pattern_error(pattern: Any) -> str | None:
    """Why `pattern` cannot be used, or None when RE2 takes it (validation of definitions and policies)."""
    if not isinstance(pattern, str):
        return "A regular expression is a string."
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """True when `pattern` occurs in `text` (case-insensitive); a pattern RE2 refuses matches nothing."""
    try:
        return compile_pattern(pattern).search(text) is not None
    except PatternError:
        return False


def _sqlite_regexp(pattern: str | None, text: Any) -> bool | None:
    """Django's REGEXP contract: case-sensitive unless the pattern says `(?i)` (as `iregex` does)."""
    if pattern is None or text is None:
        return None
    try:
        return compile_pattern(pattern, case_sensitive=True).search(str(text)) is not None
    except PatternError:
        return False


def install_sqlite_regexp(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: make SQLite's REGEXP (Django's `regex`/`iregex`) run on RE2."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("REGEXP", 2, _sqlite_regexp, deterministic=True)
