"""Import direction of the project's own code, read statically (ast, no import executed).

Every ``import x`` / ``from x import y`` at any depth (module level, inside functions, under
``if TYPE_CHECKING``) of the project's packages and ``bench`` is an edge. The tests fail on:

- a cycle between two of the project's modules;
- a cycle between two layers (top-level packages, the sub-packages of ``reconciliation_assets``);
- an import against the allowed direction (``TIERS`` below), even without a cycle.

The message prints the cycle or the offending import with its file and line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("reconciliation_assets", "resources", "sensors", "schedules", "checks", "dbt_like_sql", "bench")

# The allowed direction, lowest tier first. Each layer is a set of module prefixes: the top-level
# packages, the sub-packages of ``reconciliation_assets`` and, since the root of
# ``reconciliation_assets`` holds modules of more than one level, a few single modules. A module
# belongs to the layer of its most specific (longest) prefix. A module may import its own layer and
# the layers of lower tiers; never a higher tier, nor another layer of its own tier.
#
#   0 contract      reconciliation_assets/contract.py: the shared names (job, steps, run tags, check
#                   names, timezone); clock.py: the one clock; dbt_like_sql: the SQL models. Import
#                   nothing from the project.
#   1 engine        line splitting, header reading, the SQL runner, cancellation
#   2 domain        pure modules at the root of reconciliation_assets (partitions, schemas, catalog,
#                   day_paths, observability, ingest, validation, divergence, run_guard) and the
#                   dashboard's query-string contract, painel/filtros.py (the alerts link to it)
#   3 resources     storage, internal base, settings, notifier, Glue: the Dagster resources
#   4 services      what works through resources: publication, checkpoint, breaks (open items),
#                   generator, resources_config (the resources built from the environment)
#   5 checks        asset checks, evaluated inside the steps that own them     } siblings: none
#     painel        the dashboard and the daily report's rendering             } imports another;
#     sensors       ingress and alert sensors                                  } they meet the
#     schedules     the daily safety net                                       } assets through
#                                                                                the contract
#   6 assets        the daily chain, one module per step (calls its checks, renders the report)
#   7 definitions   the code location: wires assets, checks, sensors, schedule, resources
#   8 cli           the command line (``recon``)
#   9 bench         may import anything (tests/ are not walked: they may too)
TIERS: list[dict[str, tuple[str, ...]]] = [
    {"contract": ("reconciliation_assets.contract", "reconciliation_assets.clock", "dbt_like_sql")},
    {"engine": ("reconciliation_assets.engine",)},
    {"domain": ("reconciliation_assets", "reconciliation_assets.painel.filtros")},
    {"resources": ("resources",)},
    {
        "services": (
            "reconciliation_assets.publication",
            "reconciliation_assets.checkpoint",
            "reconciliation_assets.breaks",
            "reconciliation_assets.generator",
            "reconciliation_assets.resources_config",
        )
    },
    {
        "checks": ("checks",),
        "painel": ("reconciliation_assets.painel",),
        "sensors": ("sensors",),
        "schedules": ("schedules",),
    },
    {"assets": ("reconciliation_assets.assets",)},
    {"definitions": ("reconciliation_assets.definitions",)},
    {"cli": ("reconciliation_assets.cli",)},
    {"bench": ("bench",)},
]
LAYER_OF_PREFIX = {prefix: layer for tier in TIERS for layer, prefixes in tier.items() for prefix in prefixes}
TIER_OF_LAYER = {layer: rank for rank, tier in enumerate(TIERS) for layer in tier}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: str
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is one of the project's modules."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_edges(modules: dict[str, Path] | None = None) -> list[Edge]:
    modules = modules or project_modules()
    edges: list[Edge] = []
    for source, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = source.split(".") if is_package else source.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # ``from pkg import mod`` imports the submodule when there is one.
                targets = [f"{stem}.{alias.name}" for alias in node.names] or [stem]
            for name in targets:
                target = _resolve(name, modules)
                if target is not None and target != source:
                    edges.append(Edge(source, target, rel, node.lineno))
    return edges


def layer_of(module: str) -> str:
    best = ""
    for prefix in LAYER_OF_PREFIX:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    assert best, f"{module} belongs to no layer: add it to TIERS in tests/test_import_layers.py"
    return LAYER_OF_PREFIX[best]


def find_cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Per strongly connected component with more than one node (Tarjan, iterative): one concrete
    cycle through it and the component's members."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
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
                    components.append(sorted(component))
    return [(_one_cycle(graph, set(component)), component) for component in components]


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A concrete cycle inside a strongly connected component, from its first node back to it."""
    start = min(component)
    # breadth-first from start's successors back to start, inside the component
    previous: dict[str, str] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in component:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in seen:
                    seen.add(child)
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    raise AssertionError("not a cycle")  # pragma: no cover


def _describe(cycle: list[str], edges: list[Edge], key, component: list[str]) -> str:
    lines = [
        " → ".join(cycle)
        + (f"   (all mutually dependent: {', '.join(component)})" if len(component) > 2 else "")
    ]
    for a, b in zip(cycle, cycle[1:], strict=False):
        where = sorted({e.where() + f" ({e.source} → {e.target})" for e in edges if key(e) == (a, b)})
        lines.append(f"    {a} → {b}: " + "; ".join(where[:3]) + (" …" if len(where) > 3 else ""))
    return "\n".join(lines)


def test_every_module_is_parsed_and_has_a_layer():
    modules = project_modules()
    assert "reconciliation_assets.definitions" in modules
    assert "reconciliation_assets.contract" in modules
    for module in modules:
        layer_of(module)
    assert len(import_edges(modules)) > 100


def test_no_cycle_between_modules():
    edges = import_edges()
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between modules:\n" + "\n".join(
        _describe(c, edges, lambda e: (e.source, e.target), m) for c, m in cycles
    )


def test_no_cycle_between_layers():
    edges = import_edges()
    graph: dict[str, set[str]] = {}
    for e in edges:
        a, b = layer_of(e.source), layer_of(e.target)
        if a != b:
            graph.setdefault(a, set()).add(b)
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between layers (packages, sub-packages):\n" + "\n".join(
        _describe(c, edges, lambda e: (layer_of(e.source), layer_of(e.target)), m) for c, m in cycles
    )


def test_imports_follow_the_allowed_direction():
    wrong: set[str] = set()
    for e in import_edges():
        a, b = layer_of(e.source), layer_of(e.target)
        if a != b and TIER_OF_LAYER[b] >= TIER_OF_LAYER[a]:
            wrong.add(
                f"{e.where()}: {e.source} ({a}, tier {TIER_OF_LAYER[a]}) imports {e.target} "
                f"({b}, tier {TIER_OF_LAYER[b]})"
            )
    assert not wrong, "imports against the allowed direction (see TIERS):\n" + "\n".join(sorted(wrong))


def test_the_contract_is_a_leaf():
    imports = [f"{e.where()}: {e.target}" for e in import_edges() if layer_of(e.source) == "contract"]
    assert not imports, "the contract must import nothing from the project:\n" + "\n".join(imports)


if __name__ == "__main__":  # a quick view of the graph between layers
    counts: dict[tuple[str, str], int] = {}
    for e in import_edges():
        key = (layer_of(e.source), layer_of(e.target))
        if key[0] != key[1]:
            counts[key] = counts.get(key, 0) + 1
    for (a, b), n in sorted(counts.items()):
        print(f"{a:36} → {b:36} {n}")  # noqa: T201
