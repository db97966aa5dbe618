"""Every control of the workflow editor has an accessible name (what a screen reader announces and what
`get_by_role(..., name=...)` finds), read from Chromium's own accessibility tree at 1440x900: the trigger, each step
card's buttons, a condition group's mode and its rows, `http_request`'s key/value lists, a branch's paths.

Screenshot: tests/browser/artifacts/editor-names.png.
"""

from __future__ import annotations

import pytest

from tests.support.browser import log_in
from tests.support.people import make_user

ADD_URL = "/admin/workflows/workflow/add/"
CONTROL_ROLES = {
    "textbox",
    "combobox",
    "listbox",
    "button",
    "checkbox",
    "radio",
    "spinbutton",
    "searchbox",
    "switch",
    "slider",
}
STEPS = ("condition", "add_tag", "http_request", "wait", "branch", "auto_reply")


def unnamed_controls(page) -> list[str]:
    """The controls inside the editor form that Chromium's accessibility tree gives no name, described by their
    role and HTML name/class (empty when every control is named)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("Accessibility.enable")
    editor = cdp.send(
        "DOM.querySelector",
        {"nodeId": cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"], "selector": "#content-main"},
    )
    tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": editor["nodeId"], "fetchRelatives": False})
    full = cdp.send("Accessibility.queryAXTree", {"nodeId": editor["nodeId"]})
    nodes = full.get("nodes") or tree["nodes"]
    missing = []
    for node in nodes:
        role = (node.get("role") or {}).get("value")
        if node.get("ignored") or role not in CONTROL_ROLES:
            continue
        if not str((node.get("name") or {}).get("value") or "").strip():
            described = cdp.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
            attributes = dict(zip(described.get("attributes", [])[::2], described.get("attributes", [])[1::2]))
            missing.append(f"{role} name={attributes.get('name', '')!r} class={attributes.get('class', '')!r}")
    return missing


@pytest.mark.django_db(transaction=True)
def test_every_editor_control_has_an_accessible_name(live_server, chromium, shot, roles):  # noqa: F811
    make_user("boss", "Support managers")
    page = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}{ADD_URL}")
    page.select_option("#wf-trigger-type", "message.created")
    for step_type in STEPS:
        page.locator("#wf-add-type").select_option(step_type)
        page.locator(".wf-add-step-btn").click()
    assert page.locator(".wf-steps > .wf-step").count() == len(STEPS)
    for add_row in page.locator(".wf-add-row").all():  # a row in every key/value list (headers, values, buttons)
        add_row.click()
    shot(page, "editor-names")
    missing = unnamed_controls(page)
    assert missing == [], "\n".join(missing)
    # What a person using a screen reader hears for the controls they use most:
    assert page.get_by_role("textbox", name="Name").count() == 1
    assert page.get_by_role("combobox", name="Trigger").count() == 1
    assert page.get_by_role("button", name="Move up").count() == len(STEPS)
    assert page.get_by_role("button", name="Remove step").count() == len(STEPS)
    assert page.get_by_role("textbox", name="URL", exact=True).count() == 2  # http_request, a reply button
    assert page.get_by_role("button", name="Remove row").count() == page.locator(".wf-add-row").count()
    assert page.get_by_role("combobox", name="If the condition is false").count() == 1
