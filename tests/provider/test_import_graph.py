"""The package's import graph: no cycle (lazy imports included) and each layer importing only below it.

Read from the source with `ast` (nothing is imported), so an import inside a function counts as
much as one at the top: a lazy import only hides a cycle until the day both modules load together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import airflow_mmc_provider

PACKAGE = Path(airflow_mmc_provider.__file__).parent
NAME = PACKAGE.name


def module_names() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = module_names()


def imported(module: str) -> Iterator[str]:
    """Every absolute name `module` imports anywhere in its source (relative imports resolved)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def own_module(name: str) -> str | None:
    """The package module a dotted name lives in (``pkg.mod.Class`` -> ``pkg.mod``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for name in imported(module):
            target = own_module(name) if name.startswith(NAME) else None
            if target is not None and target != module:
                edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
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
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycle_lazy_imports_included():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import():
    """The control: a lazy import back from b to a is a cycle."""
    assert cycles({"a": {"b"}, "b": {"a", "c"}, "c": set()}) == [["a", "b"]]


def layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


# What each layer may import from the package's other layers (the README's architecture section).
ALLOWED = {
    "mmc": set(),
    "evaluation": {"mmc"},
    "client": {"mmc"},
    "emulator": {"mmc"},
    "hooks": {"client"},
    "triggers": {"hooks", "client", "mmc"},
}
NO_AIRFLOW = ("mmc", "evaluation", "client", "emulator")


def test_each_layer_imports_only_the_layers_below_it_and_airflow_stays_above_the_client():
    wrong = []
    for module in MODULES:
        own = layer(module)
        for name in imported(module):
            if own in NO_AIRFLOW and name.split(".")[0] == "airflow":
                wrong.append(f"{module} imports {name}")
            target = own_module(name) if name.startswith(NAME) else None
            if target is None or own not in ALLOWED:
                continue
            other = layer(target)
            if other not in ("", own) and other not in ALLOWED[own]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []
