"""Templates are bounded while they render, not after (issue 11, finding 4).

Each render has a step budget (loop iterations, calls, filters, operators) and a character budget (every piece of
output, in any buffer, and every value built). The tests shrink both budgets through settings and measure the
memory a render allocates with tracemalloc: a render refused only after building its text would pass a length
check but not the memory bound. No wall-clock timing: the step budget is counted, not timed.
"""

import tracemalloc

import pytest

from conversations import services as conversations
from tests.support.runs import drain
from workflows.engine.context import RenderError, render
from workflows.models import StepRun

TINY_CHARS = 2_000
TINY_STEPS = 2_000
DOUBLING_BY_CONCAT = (
    "{% set ns = namespace(s='ab') %}{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
)
DOUBLING_IN_A_BLOCK = (
    "{% set ns = namespace(s='ab') %}{% for i in range(20) %}{% set ns.s %}{{ ns.s }}{{ ns.s }}"
    "{% endset %}{% endfor %}{{ ns.s|length }}"
)
NESTED_LOOPS = "{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}done"


@pytest.fixture
def tiny_budget(settings):
    settings.HELPDESK_TEMPLATE_MAX_CHARS = TINY_CHARS
    settings.HELPDESK_TEMPLATE_MAX_STEPS = TINY_STEPS
    return settings


def peak_bytes_while_refused(template: str, context: dict | None = None) -> tuple[int, str]:
    """The most memory the render held at once, and the error it was refused with."""
    tracemalloc.start()
    try:
        with pytest.raises(RenderError) as refused:
            render(template, context or {})
        return tracemalloc.get_traced_memory()[1], str(refused.value)
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("template", [DOUBLING_BY_CONCAT, DOUBLING_IN_A_BLOCK], ids=["concat", "set-block"])
def test_doubling_a_string_in_a_namespace_stops_at_the_character_budget(tiny_budget, template):
    peak, error = peak_bytes_while_refused(template)
    assert "characters" in error
    assert peak < 100 * TINY_CHARS, f"{peak} bytes allocated: the text was built before it was refused"


AMPLIFIERS = {
    "replace": "{{ ('a' * 1000)|replace('a', 'b' * 1000) }}",
    "str.replace": "{{ ('a' * 1000).replace('a', 'b' * 1000) }}",
    "join": "{{ (['x' * 500] * 3)|join('y' * 500) }}",
    "str.join of a generator": "{{ ('y' * 5000).join(range(100)|map('string')) }}",
    "list repetition": "{{ ['a' * 1000] * 1000 }}",
    "str repetition": "{{ 'ab' * 600000 }}",
    "percent width": "{{ '%900000s' % 'x' }}",
    "format width": "{{ '{:>900000}'.format('x') }}",
    "format repeats": "{{ '{0}{0}{0}{0}{0}{0}'.format('x' * 1000) }}",
    "center": "{{ 'x'.center(900000) }}",
    "indent": "{{ ('\\n' * 1000)|indent(1000) }}",
    "loop output": "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    "big numbers": "{{ ((9 ** 99) ** 99) ** 99 }}",
}


@pytest.mark.parametrize("template", AMPLIFIERS.values(), ids=AMPLIFIERS.keys())
def test_text_multiplying_operations_are_refused_before_they_build(tiny_budget, template):
    peak, error = peak_bytes_while_refused(template)
    assert peak < 100 * TINY_CHARS, f"{peak} bytes allocated: {error}"


def test_nested_loops_stop_at_the_step_budget(tiny_budget):
    with pytest.raises(RenderError, match="too many steps"):
        render(NESTED_LOOPS, {})


def test_exponential_macro_recursion_stops_at_the_step_budget(tiny_budget):
    macro = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(16) }}"
    with pytest.raises(RenderError, match="too many steps"):
        render(macro, {})


def test_the_budget_is_per_render_and_ordinary_templates_fit(tiny_budget):
    template = (
        "{% for tag in conversation.tags %}{{ tag|upper }}{% if not loop.last %}, {% endif %}{% endfor %}"
        " | {{ contact.name ~ '!' }} {{ '%s-%03d'|format('T', 7) }} {{ 'a,b'.split(',')|join('+') }}"
        " {{ '{} {}'.format('x', 1) }} {{ [3, 1, 2]|sort|first }} {{ (vars.n * 2) ** 2 }}"
    )
    data = {"conversation": {"tags": ["vip", "refund"]}, "contact": {"name": "Ada"}, "vars": {"n": 3}}
    for _ in range(3):  # a render never inherits what the one before it spent
        assert render(template, data) == "VIP, REFUND | Ada! T-007 a+b x 1 1 36"


def test_a_dry_run_fails_the_step_at_the_budget(tiny_budget, manager_client, conversation):
    created = manager_client.post(
        "/api/workflows/",
        {
            "name": "Loops",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": [{"type": "set_variable", "config": {"name": "x", "value": NESTED_LOOPS}}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    report = manager_client.post(
        f"/api/workflows/{created.json()['id']}/test/", {"conversation": conversation.pk}, format="json"
    )
    assert report.status_code == 200, report.content
    step = report.json()["steps"][0]
    assert step["status"] == "failed" and "too many steps" in step["error"], step


def test_a_worker_run_fails_the_step_at_the_budget(tiny_budget, make_workflow, contact):
    make_workflow(
        "conversation.created", [{"type": "set_variable", "config": {"name": "x", "value": DOUBLING_BY_CONCAT}}]
    )
    conversations.conversation_open(contact=contact, channel="web", subject="Budget")
    drain()
    step = StepRun.objects.get()
    assert step.status == "failed" and "characters" in step.error, (step.status, step.error)
