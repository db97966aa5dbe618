"""The layers are true: the import graph of our packages has no circle, the registries fill from
`WorkflowsConfig.ready()` (not as a side effect of an import), and imports inside functions happen only at the
documented seams below. The one-way rules between rooms are import-linter contracts (pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

from workflows.triggers import FAMILIES, HELPERS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("helpdesk", "inboxes", "workflows", "reports", "sla", "conversations")

# Imports inside a function that are allowed, by (module file, imported module): each with why it cannot be at the top.
# Any `apps.py` is a seam as a whole: `AppConfig.ready()` is Django's hook for code that needs every app loaded.
DJANGO_Q = (
    "django-q2's modules import its models: importable only once the app registry is ready, and this module "
    "is imported while models load (or by code that runs before)"
)
SEAMS: dict[tuple[str, str], str] = {
    ("conversations/events.py", "django_q.conf"): DJANGO_Q,
    ("conversations/events.py", "django_q.tasks"): DJANGO_Q,
    ("conversations/events.py", "django_q.models"): DJANGO_Q,
    ("conversations/events.py", "django_q.signing"): DJANGO_Q,
    ("conversations/services/deliveries.py", "django_q.tasks"): DJANGO_Q,
    ("sla/tasks.py", "django_q.models"): DJANGO_Q,
    ("workflows/engine/replay.py", "django_q.tasks"): DJANGO_Q,
    ("workflows/engine/supervisor.py", "django_q.tasks"): DJANGO_Q,
    ("workflows/services.py", "django_q.tasks"): DJANGO_Q,
    ("workflows/tasks.py", "django_q.conf"): DJANGO_Q,
    (
        "conversations/tokens.py",
        "rest_framework.authtoken.models",
    ): "DRF's authtoken is optional for a host project: its models import only when the app is installed",
    (
        "conversations/routing/agents.py",
        "conversations.services.conversations",
    ): "conversations.services re-exports routing's writes from its package __init__; importing a services module "
    "at the top of routing would run that __init__ while routing is half-loaded",
    (
        "workflows/integrations/services.py",
        "workflows.engine.definition",
    ): "key rotation re-seals the write-only values inside workflow definitions, which only the definition module "
    "knows; integrations sit below the engine (ignored import in the rooms contract, pyproject.toml)",
}


def _sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _imports_in_functions(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import statement inside a function body of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    found.append((node.lineno, ("." * node.level) + (node.module or "")))
                elif isinstance(node, ast.Import):
                    found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _registry_loads() -> dict[str, set[str]]:
    """What `WorkflowsConfig.ready()` imports by name (importlib), which grimp cannot see: every step module and
    every trigger family."""
    steps = {
        f"workflows.steps.{path.stem}"
        for path in (ROOT / "workflows" / "steps").glob("*.py")
        if path.stem not in ("__init__", "registry")
    }
    triggers = {f"workflows.triggers.{family}" for family in FAMILIES if family not in HELPERS}
    return {"workflows.apps": steps | triggers}


def _circles(adjacency: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for start in sorted(adjacency):
        if start in index:
            continue
        work = [(start, iter(sorted(adjacency[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(adjacency.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_import_graph_of_our_packages_has_no_circle():
    """Imports under `if TYPE_CHECKING:` are left out: they never run."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None, exclude_type_checking_imports=True)
    adjacency = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    for importer, loaded in _registry_loads().items():
        adjacency[importer] |= loaded
    assert _circles(adjacency) == []


def test_circle_finder_finds_a_circle():
    """The finder itself, so the test above cannot pass by finding nothing."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_registries_load_only_from_app_ready():
    """No module imports others by name at import time (a hidden edge that only the load order resolves)."""
    offenders = []
    for path in _sources():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            call = node.value if isinstance(node, ast.Expr) else None
            if isinstance(call, ast.Call):
                name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
                if name in ("load_all", "import_module"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_imports_inside_functions_only_at_documented_seams():
    found = set()
    unexpected = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        if path.name == "apps.py":
            continue
        for line, module in _imports_in_functions(path):
            key = (relative, module)
            found.add(key)
            if key not in SEAMS:
                unexpected.append(f"{relative}:{line} imports {module} inside a function")
    assert unexpected == [], "Move the import to the top of the module, or document the seam in SEAMS"
    assert set(SEAMS) - found == set(), "A seam no longer exists: remove it from SEAMS"


def _test_module_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, at any depth, of a test module or a conftest."""
    imported = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        modules += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        imported += [(node.lineno, module) for module in modules]
    return [(line, module) for line, module in imported if module.rpartition(".")[2].startswith(("test_", "conftest"))]


def test_tests_share_helpers_through_tests_support_only():
    """A helper two test files use lives in tests/support (or a fixture in a conftest), never in a test module: a
    test file imported by another is collected twice over and ties the two files' fates together."""
    unexpected = [
        f"{path.relative_to(ROOT).as_posix()}:{line} imports {module}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, module in _test_module_imports(path)
    ]
    assert unexpected == [], "Move the shared helper to tests/support"
