"""The workflow app ships complete German, French and Spanish catalogues: every entry translated (no empty or fuzzy
one), the compiled .mo files are the .po files as they stand, and `makemessages` over the app finds no string that
the catalogues lack, so a new label cannot slip in untranslated."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "workflows"
LANGUAGES = ("de", "fr", "es")
DOMAINS = ("django", "djangojs")

pytestmark = pytest.mark.skipif(
    shutil.which("msgfmt") is None or shutil.which("msgattrib") is None, reason="GNU gettext tools are not installed"
)


def catalogue(language: str, domain: str) -> Path:
    return APP / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


def problems(po: Path) -> str:
    """Entries msgattrib finds untranslated or fuzzy (empty when the catalogue is complete)."""
    found = subprocess.run(
        ["msgattrib", "--untranslated", "--only-fuzzy", "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-wrap", str(po)], capture_output=True, text=True, check=True
    ).stdout
    return "\n".join(part for part in (found, untranslated) if "msgid" in part)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_compiled(language, domain, tmp_path):
    po = catalogue(language, domain)
    assert not problems(po), f"{po} has untranslated or fuzzy entries"
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
    assert fresh.read_bytes() == po.with_suffix(".mo").read_bytes(), f"{po.with_suffix('.mo')} is stale: compile it"


def test_makemessages_finds_no_new_string(tmp_path):
    """Run makemessages over a copy of the app: every string it extracts already has its translation (`-P`: the
    copy holds a `selectors.py`, which must not shadow the standard library)."""
    copy = tmp_path / "workflows"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("__pycache__"))
    command = [
        sys.executable,
        "-P",
        "-m",
        "django",
        "makemessages",
        "--no-obsolete",
        *[f"-l{lang}" for lang in LANGUAGES],
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings_test", "PYTHONPATH": str(APP.parent)}
    for domain in DOMAINS:
        done = subprocess.run([*command, "-d", domain], cwd=copy, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for language in LANGUAGES:
        for domain in DOMAINS:
            po = copy / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
            assert not problems(po), f"makemessages found strings {language}/{domain} lacks:\n{problems(po)}"
