"""The code's rooms: no import cycle between the app's modules, lower layers never import higher
ones, and no module grows past the size a reader can hold (the README's map)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "services"
MAX_LINES = 600

# Lowest first. A module may import from its own layer or any layer below it, never above.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "plain helpers",
        [
            "services.choices",
            "services.lib",
            "services.lifecycle",
            "services.fields",
            "services.demo",
            "services.legal_rules",
        ],
    ),
    ("models", ["services.models"]),
    (
        "who is signed in, the access log (and its anchor), the figures' cache, the key canaries",
        ["services.auth", "services.audit", "services.audit_anchor", "services.figures", "services.keyring"],
    ),
    (
        "access rules, the second factor, kept counts, sign-in",
        ["services.access", "services.second_factor", "services.outcome_counts", "services.signin"],
    ),
    (
        "reads, reminders",
        [
            "services.selectors",
            "services.reminders",
            "services.reminder_plans",
            "services.reminder_messages",
            "services.referral_reminders",
            "services.legal_reminders",
            "services.document_reminders",
            "services.retention",
        ],
    ),
    ("tasks", ["services.tasks"]),
    ("writes, outcome figures", ["services.actions", "services.outcomes"]),
    ("forms", ["services.forms"]),
    (
        "the web and the commands",
        [
            "services.views",
            "services.api",
            "services.templatetags",
            "services.middleware",
            "services.context_processors",
            "services.admin",
            "services.admin_site",
            "services.urls",
            "services.management",
            "services.checks",
            "services.apps",
        ],
    ),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_modules() -> dict[str, Path]:
    return {module_name(p): p for p in APP.rglob("*.py") if "migrations" not in p.parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The app's modules this file imports, at any depth of the file (a local import counts)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from services.actions import needs` imports the module services.actions.needs.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name.startswith("services"):
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    modules = app_modules()
    known = set(modules)
    edges = {}
    for name, path in modules.items():
        # A package's __init__ is imported on the way to any of its modules: not a dependency.
        edges[name] = {m for m in imports_of(path, known) if m != name and not name.startswith(m + ".")}
        edges[name].discard("services")
    return edges


def layer_of(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    raise LookupError(module)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_module_of_the_app_has_a_layer():
    unplaced = []
    for module in app_modules():
        if module == "services":
            continue
        try:
            layer_of(module)
        except LookupError:
            unplaced.append(module)
    assert not unplaced, f"add these modules to a layer in LAYERS: {unplaced}"


def test_no_import_cycle_between_the_apps_modules():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in graph().items()
        if module != "services"
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_a_local_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from services.actions import needs\n")
    assert "services.actions.needs" in imports_of(module, {"services.actions", "services.actions.needs"})


@pytest.mark.parametrize("name", sorted(app_modules()))
def test_no_module_is_past_the_size_a_reader_can_hold(name):
    lines = len(app_modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by domain (the README's map)"
