"""The documentation keeps up with the code.

- The reference pages name every registered trigger type, step type, event type and `HELPDESK_*` setting, as a
  heading or as the first cell of a table row, in backticks. A new trigger, step, event or setting without docs
  fails here, naming what is missing and the page to add it to.
- Every relative link in README.md and docs/ points at a file that exists.
- The MkDocs site builds in strict mode (a broken link or a page missing from the build fails it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conversations.choices import EventType
from conversations.conf import DEFAULTS, PREFIX
from workflows.steps import step_types
from workflows.triggers import trigger_types

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
BACKTICKED = re.compile(r"`([^`\n]+)`")


def documented_names(page: Path) -> set[str]:
    """The names a reference page documents: backticked names in its headings and in the first cell of its table
    rows (outside code blocks)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    names: set[str] = set()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            names.update(BACKTICKED.findall(stripped))
        elif stripped.startswith("|"):
            cells = stripped.strip("|").split("|")
            names.update(BACKTICKED.findall(cells[0]))
    return names


def missing_from(page: str, expected: list[str]) -> list[str]:
    documented = documented_names(REFERENCE / page)
    return sorted(name for name in expected if name not in documented)


def test_every_trigger_type_is_documented():
    missing = missing_from("triggers.md", list(trigger_types.names()))
    assert not missing, f"docs/reference/triggers.md has no heading or table row for the trigger types {missing}"


def test_every_step_type_is_documented():
    missing = missing_from("steps.md", list(step_types.names()))
    assert not missing, f"docs/reference/steps.md has no heading or table row for the step types {missing}"


def test_every_event_type_is_documented():
    missing = missing_from("events.md", [choice.value for choice in EventType])
    assert not missing, f"docs/reference/events.md has no heading or table row for the event types {missing}"


def test_every_setting_is_documented():
    missing = missing_from("settings.md", [PREFIX + key for key in DEFAULTS])
    assert not missing, f"docs/reference/settings.md has no heading or table row for the settings {missing}"


def test_the_reference_check_reads_headings_and_first_cells_only(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# `a.b`\n\n| `c` | `d` |\n| --- | --- |\n\nprose `e`\n\n```\n| `f` |\n```\n", encoding="utf-8")
    assert documented_names(page) == {"a.b", "c"}


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def relative_links(page: Path) -> list[str]:
    """The relative link targets of a Markdown file (code blocks and inline code are not links)."""
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    targets = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http(s), mailto, an anchor on the same page
        targets.append(target)
    return targets


@pytest.mark.parametrize("page", markdown_files(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(page):
    broken = [target for target in relative_links(page) if not (page.parent / target.split("#", 1)[0]).exists()]
    assert not broken, f"{page.relative_to(ROOT)} links to files that do not exist: {broken}"


def test_the_docs_site_builds_in_strict_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "index.html").exists()
    assert (tmp_path / "reference" / "steps" / "index.html").exists()
