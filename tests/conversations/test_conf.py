"""The HELPDESK_* settings (conversations/conf.py): a project that sets none gets the defaults, a project's value
wins, and every name the apps read has a default (a misspelt name fails here, not in production)."""

import re
from pathlib import Path

import pytest

from conversations.conf import DEFAULTS, helpdesk_setting

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""helpdesk_setting\(["'](\w+)["']\)""")


def test_a_setting_the_project_leaves_out_reads_its_default(settings):
    del settings.HELPDESK_MAX_DEPTH
    del settings.HELPDESK_OUTBOUND_ALLOWLIST
    assert helpdesk_setting("MAX_DEPTH") == 3
    assert helpdesk_setting("OUTBOUND_ALLOWLIST") == []


def test_the_projects_value_wins(settings):
    settings.HELPDESK_MAX_DEPTH = 7
    assert helpdesk_setting("MAX_DEPTH") == 7


def test_an_unknown_name_is_refused():
    with pytest.raises(KeyError):
        helpdesk_setting("MAX_DEPHT")


def test_every_setting_the_apps_read_has_a_default():
    sources = [path for app in ("conversations", "sla", "workflows", "inboxes") for path in (ROOT / app).rglob("*.py")]
    read = {name for path in sources for name in READ.findall(path.read_text())}
    assert read and read <= set(DEFAULTS), sorted(read - set(DEFAULTS))
