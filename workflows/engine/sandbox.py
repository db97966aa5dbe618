"""The template sandbox: Jinja2's immutable sandbox, bounded by construction.

Templates run in workers and in dry runs in the web process, written by managers, so every render has a budget of
CPU time (`HELPDESK_TEMPLATE_MAX_SECONDS`, checked at every step), of
steps (loop iterations, calls, attribute reads, filters, operators) and of characters (every piece of output, in
any buffer: the top level, `{% set %}` blocks, macros), both spent while rendering. An operation whose result would
exceed the character budget is refused before it runs (`'a' * 10**9`, doubling a string in a namespace, `replace`
and `join` that multiply text, format widths), and every value an operation makes is measured (deeply, stopping at
the budget), so nothing bigger than the budget is ever built. Exceeding a budget raises TemplateBudgetError.

The tree of every template is rewritten once, when it is compiled: loop iterables, output pieces and `~` joins
become calls to the budget (`_budget_tree`). Filters are wrapped when the environment is made.

`{{ secrets.NAME }}` is a SecretRef: it renders to an opaque token that stands for the secret (see
`workflows.integrations.secrets.SealedSecrets`) and refuses every filter, operator, attribute, item and call, so no template
can turn a secret into text.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer

from conversations.conf import helpdesk_setting

MAX_RENDERED_CHARS = 100_000
MAX_TEMPLATE_STEPS = 20_000
MAX_EXPONENT = 100
MAX_INT_BITS = 4 * MAX_RENDERED_CHARS  # integers stay renderable and cheap to multiply
REFUSED_STR_METHODS = frozenset({"format_map", "translate", "maketrans", "expandtabs"})
_FORMAT_NUMBER = re.compile(r"\d+")


class TemplateBudgetError(ValueError):
    """A render went past its step or character budget, or tried to read a secret as text."""


class SecretRef:
    """What `{{ secrets.NAME }}` is inside a template: usable only whole. Rendering it gives `token`; everything
    else (filters, operators, attributes, items, iteration, comparison) is refused or meaningless."""

    __slots__ = ("name", "token")

    def __init__(self, name: str, token: str):
        self.name, self.token = name, token

    def __str__(self) -> str:
        return self.token

    __repr__ = __str__

    def __iter__(self) -> Iterator[Any]:
        raise TemplateBudgetError(f"secrets.{self.name} can only be used whole.")

    def __getitem__(self, key: Any) -> Any:  # Jinja slices (`[0:8]`) without asking the sandbox
        raise TemplateBudgetError(f"secrets.{self.name} can only be used whole.")

    __len__ = __iter__

    def __bool__(self) -> bool:  # `{% if secrets.NAME %}` asks whether it is set, which its presence says
        return True


def refuse_secret(*values: Any) -> None:
    """Raise when any value is a secret: a secret may only be placed whole into a template's output."""
    for value in values:
        if isinstance(value, SecretRef):
            raise TemplateBudgetError(f"secrets.{value.name} can only be used whole, not transformed.")


@dataclass
class Budget:
    """What one render may still spend, and the character limit of any one value it builds."""

    steps: int
    chars: int
    max_chars: int
    # CPU time: a monotonic deadline checked at every step (each filter, call, attribute, operator and loop turn),
    # so an expensive filter repeated (`wordwrap` a thousand times) stops soon after the time is spent.
    deadline: float = float("inf")
    max_seconds: float = 0.0

    def step(self, count: int = 1) -> None:
        self.steps -= count
        if self.steps < 0:
            raise TemplateBudgetError("the template takes too many steps (loops, calls, filters); simplify it.")
        if time.monotonic() > self.deadline:
            raise TemplateBudgetError(f"The template took longer than {self.max_seconds:g} s to render; simplify it.")

    def emit(self, count: int) -> None:
        self.chars -= count
        if self.chars < 0:
            raise TemplateBudgetError(f"the template writes more than {self.max_chars} characters.")


_active: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("template_budget", default=None)


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("template_deadline", default=None)


@contextlib.contextmanager
def render_deadline() -> Iterator[None]:
    """Every render inside the block shares one deadline (HELPDESK_TEMPLATE_MAX_SECONDS from the outermost block):
    a step's config of many templated strings is bounded as a whole, not per string. Nested blocks keep the outer
    deadline."""
    if _deadline.get() is not None:
        yield
        return
    token = _deadline.set(time.monotonic() + float(helpdesk_setting("TEMPLATE_MAX_SECONDS")))
    try:
        yield
    finally:
        _deadline.reset(token)


def _fresh_budget() -> Budget:
    chars, seconds = helpdesk_setting("TEMPLATE_MAX_CHARS"), float(helpdesk_setting("TEMPLATE_MAX_SECONDS"))
    shared = _deadline.get()
    return Budget(
        steps=helpdesk_setting("TEMPLATE_MAX_STEPS"),
        chars=chars,
        max_chars=chars,
        deadline=shared if shared is not None else time.monotonic() + seconds,
        max_seconds=seconds,
    )


@contextlib.contextmanager
def budgeted() -> Iterator[Budget]:
    """Give the renders inside the block one fresh budget (the limits come from settings, so tests can shrink them)."""
    budget = _fresh_budget()
    token = _active.set(budget)
    try:
        yield budget
    finally:
        _active.reset(token)


def _budget() -> Budget:
    current = _active.get()
    # Outside `budgeted()` (not through `context.render`) each operation is still bounded, just not in total.
    return current if current is not None else _fresh_budget()


def max_chars() -> int:
    """The most characters one value (and all the output) of the current render may hold."""
    return _budget().max_chars


def size(value: Any, limit: int | None = None) -> int:
    """Roughly how many characters `value` renders to, counted deeply and only up to `limit` (so it is cheap)."""
    limit = max_chars() if limit is None else limit
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, Namespace):
        value = object.__getattribute__(value, "_Namespace__attrs")
    if isinstance(value, dict):
        value = [item for pair in value.items() for item in pair]
    if isinstance(value, (list, tuple, set, frozenset)):
        total = 2 + 2 * len(value)
        for item in value:
            if total > limit:
                break
            total += size(item, limit - total)
        return total
    return 32


def check_size(value: Any) -> Any:
    """`value`, once it is known to fit the character budget."""
    if size(value) > max_chars():
        raise TemplateBudgetError(f"the template builds a value of more than {max_chars()} characters.")
    return value


def _refuse_big_numbers(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > max_chars():
            raise TemplateBudgetError(f"a number above {max_chars()} cannot size text in a template.")


def _format_widths(text: str) -> int:
    """The characters the widths and precisions of a format string can add (`%9999s`, `{:>9999}`)."""
    too_big = max_chars() + 1
    return sum(too_big if len(number) > 9 else int(number) for number in _FORMAT_NUMBER.findall(text))


def _format_size(template: str, *args: Any, **kwargs: Any) -> int:
    """What formatting can build: the text, its widths, and each field filled with the largest argument."""
    values = [*args, *kwargs.values()]
    flat = [
        item
        for value in values
        for item in (
            value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
        )
    ]
    largest = max((size(value) for value in flat), default=0)
    fields = template.count("%") + template.count("{")
    return len(template) + _format_widths(template) + fields * largest


def _replace_size(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(text)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * len(new)


def _join_size(items: Any, separator: Any = "") -> int:
    if not hasattr(items, "__len__"):
        return 0
    return size(list(items)) + len(items) * size(separator)


def _indent_size(text: Any, width: Any = 4, *args: Any, **kwargs: Any) -> int:
    if not isinstance(text, str):
        return 0
    return len(text) + (text.count("\n") + 1) * (size(width) if isinstance(width, str) else int(width or 0))


# What an amplifying operation would build, estimated before it runs (the rest are measured after).
_STR_METHOD_SIZES: dict[str, Callable[..., int]] = {
    "replace": _replace_size,
    "join": lambda separator, items=(): _join_size(items, separator),
    "format": _format_size,
}
_FILTER_SIZES: dict[str, Callable[..., int]] = {
    "replace": lambda text, old="", new="", count=None: _replace_size(
        str(text), old, new, -1 if count is None else count
    ),
    "join": lambda items, d="", attribute=None: _join_size(items, d),
    "indent": _indent_size,
    "format": lambda text, *args, **kwargs: _format_size(str(text), *args, **kwargs),
}


def _estimate(
    estimates: dict[str, Callable[..., int]], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    estimate = estimates.get(name)
    if estimate is not None and estimate(*args, **kwargs) > max_chars():
        raise TemplateBudgetError(f"{name} would build more than {max_chars()} characters.")


def _budgeted_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that spends a step (one per item of what it walks), refuses secrets and oversized results."""
    passes_environment = getattr(function, "jinja_pass_arg", None) is not None

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        head, own = (args[:1], args[1:]) if passes_environment else ((), args)
        refuse_secret(*own, *kwargs.values())
        if own and hasattr(own[0], "__next__"):  # a generator (from map, select...): walk it on the budget
            own = (list(_budget_iterable(own[0])), *own[1:])
            args = (*head, *own)
        subject = own[0] if own else None
        _budget().step(1 + (len(subject) if isinstance(subject, (list, tuple, dict, set)) else 0))
        _refuse_big_numbers([*own[1:], *kwargs.values()])
        _estimate(_FILTER_SIZES, name, own, kwargs)
        return check_size(function(*args, **kwargs))

    return wrapper


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with every operation that can cost time or memory charged to the render's budget.
    (Intercepting the operators also stops Jinja from folding such constants at compile time.)"""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.filters = {name: _budgeted_filter(name, function) for name, function in self.filters.items()}
        self.tests = {name: self._budgeted_test(function) for name, function in self.tests.items()}

    @staticmethod
    def _budgeted_test(function: Any) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _budget().step()
            refuse_secret(*args, *kwargs.values())
            return function(*args, **kwargs)

        return wrapper

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return _budget_tree(super()._parse(source, name, filename))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _budget().step()
        refuse_secret(left, right)
        _check_binop(operator, left, right)
        return check_size(super().call_binop(context, operator, left, right))

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        _budget().step()
        refuse_secret(arg)
        return super().call_unop(context, operator, arg)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _budget().step()
        refuse_secret(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _budget().step()
        refuse_secret(obj)
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's form)
        _budget().step()
        if any(__obj is hook for hook in _HOOKS.values()):  # our own hooks (they take secrets whole)
            return __obj(*args)
        # A generator (from map, select...) is walked on the budget first, so what it yields can be measured.
        args = tuple(list(_budget_iterable(arg)) if hasattr(arg, "__next__") else arg for arg in args)
        # Jinja passes the loop's and block's variables along, for functions that read the context.
        given = [value for key, value in kwargs.items() if key not in ("_loop_vars", "_block_vars")]
        refuse_secret(__obj, *args, *given)
        _refuse_big_numbers([*args, *given])
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        subject = getattr(target, "__self__", None)
        if isinstance(subject, str):
            name = getattr(target, "__name__", "")
            if name in REFUSED_STR_METHODS:
                raise TemplateBudgetError(f"str.{name} is not available in templates.")
            _estimate(_STR_METHOD_SIZES, name, (subject, *args), kwargs)
        return check_size(super().call(__context, __obj, *args, **kwargs))


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would not fit, before computing it."""
    numbers = all(isinstance(side, (int, float)) for side in (left, right))
    if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
        raise TemplateBudgetError(f"exponents above {MAX_EXPONENT} are not allowed in templates.")
    if (
        operator == "**"
        and isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() * max(right, 0) > MAX_INT_BITS
    ):
        raise TemplateBudgetError("the template computes too large a number.")
    if (
        operator == "*"
        and isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise TemplateBudgetError("the template computes too large a number.")
    if operator == "*" and not numbers:
        for sequence, times in ((left, right), (right, left)):
            if (
                isinstance(times, int)
                and not isinstance(sequence, (int, float))
                and size(sequence) * max(times, 0) > max_chars()
            ):
                raise TemplateBudgetError(f"a template may not build more than {max_chars()} characters.")
    if operator == "+" and not numbers and size(left) + size(right) > max_chars():
        raise TemplateBudgetError(f"a template may not build more than {max_chars()} characters.")
    if operator == "%" and isinstance(left, str) and _format_size(left, right) > max_chars():
        raise TemplateBudgetError(f"a template may not build more than {max_chars()} characters.")


def _budget_iterable(iterable: Any) -> Iterator[Any]:
    """What a `{% for %}` loop walks: one step per item."""
    refuse_secret(iterable)
    budget = _budget()
    for item in iterable:
        budget.step()
        yield item


def _budget_output(value: Any) -> str:
    """One piece of output, in any buffer: measured before it becomes text, then charged to the budget."""
    budget = _budget()
    if not isinstance(value, str):
        if size(value, budget.chars + 1) > budget.chars:
            budget.emit(budget.chars + 1)
        value = "" if value is None else str(value)
    budget.emit(len(value))
    text: str = value  # a str (or Markup) now
    return text


def _budget_concat(*parts: Any) -> str:
    """`a ~ b ~ c`, refused before joining when the result would not fit."""
    if sum(size(part) for part in parts) > max_chars():
        raise TemplateBudgetError(f"a template may not build more than {max_chars()} characters.")
    return "".join("" if part is None else str(part) for part in parts)


_HOOKS = {"_budget_iterable": _budget_iterable, "_budget_output": _budget_output, "_budget_concat": _budget_concat}


def _hook(name: str, *args: nodes.Node) -> nodes.Call:
    return nodes.Call(nodes.EnvironmentAttribute(name), list(args), [], None, None)


class _BudgetTree(NodeTransformer):
    """Routes every loop, output piece and `~` join of a parsed template through the budget hooks."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = _hook("_budget_iterable", node.iter)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return _hook("_budget_concat", *node.nodes)

    def visit_Output(self, node: nodes.Output) -> nodes.Output:
        self.generic_visit(node)
        node.nodes = [
            _hook("_budget_output", nodes.Const(child.data) if isinstance(child, nodes.TemplateData) else child)
            for child in node.nodes
        ]
        return node


def _budget_tree(tree: nodes.Template) -> nodes.Template:
    budgeted: nodes.Template = _BudgetTree().visit(tree)
    return budgeted


@functools.lru_cache(maxsize=1)
def environment() -> BudgetedSandbox:
    """The one template environment (no `lipsum`: it generates text by the megabyte on request)."""
    sandbox = BudgetedSandbox(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=True)
    sandbox.globals.pop("lipsum", None)
    for name, hook in _HOOKS.items():
        setattr(sandbox, name, hook)
    return sandbox
