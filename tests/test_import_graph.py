"""The import graph of omnidsl's subpackages: no cycles, and the layering rules of issue 12.

Every ``import omnidsl.X`` / ``from omnidsl.X import ...`` counts, also the lazy ones inside
functions (a cycle through a lazy import is still a cycle of design, and one refactor away from
an import-time failure).  Nodes are the subpackages (``omnidsl/<pkg>/``), the root modules
(``omnidsl/<mod>.py``) and the command modules (``omnidsl/<pkg>/commands.py`` as
``<pkg>.commands``): a command module is the CLI layer of its stage (``cli.py`` dispatches to it)
and a leaf that no library module imports, so it may use any stage.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "omnidsl"

#: (importer, imported) edges that must not exist.
FORBIDDEN = [
    ("solidity", "market"),  # the verifier does not know the market
    ("chain", "market"),  # chains are below both users
    ("chain", "solidity"),
]


def _node(module: str) -> str | None:
    """'omnidsl.market.client' -> 'market'; 'omnidsl.errors' -> 'errors';
    'omnidsl.groth16.commands' -> 'groth16.commands'; else None."""
    parts = module.split(".")
    if parts[0] != "omnidsl" or len(parts) < 2:
        return None
    if len(parts) > 2 and parts[2] == "commands":
        return f"{parts[1]}.commands"
    return parts[1]


def _owner(path: Path) -> str:
    rel = path.relative_to(PKG)
    if len(rel.parts) > 1 and rel.stem == "commands":
        return f"{rel.parts[0]}.commands"
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _package(node: str) -> str:
    return node.split(".")[0]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "omnidsl":  # from omnidsl import chain
                found |= {f"omnidsl.{a.name}" for a in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    """Subpackage/root module -> the other ones it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PKG.rglob("*.py")):
        me = _owner(path)
        deps = graph.setdefault(me, set())
        for mod in _imports(path):
            other = _node(mod)
            base = _package(other) if other is not None else ""
            if other is not None and other != me and ((PKG / base).is_dir() or (
                    PKG / f"{base}.py").exists()):
                deps.add(other)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert {"chain", "solidity", "market", "groth16", "mpc"} <= set(graph)
    assert "chain" in graph["market"] and "chain" in graph["solidity.commands"]
    assert "solidity.commands" not in graph["solidity"]  # a command module is its own node


def test_no_import_cycle_between_subpackages() -> None:
    assert cycles(import_graph()) == []


def test_layering_rules() -> None:
    """Also through a command module: ``solidity.commands`` counts as ``solidity``."""
    graph = import_graph()
    broken = [(me, dep) for me, deps in graph.items() for dep in deps
              if (_package(me), _package(dep)) in FORBIDDEN]
    assert broken == []


def test_command_modules_are_leaves() -> None:
    """Only the CLI and other command modules import a command module."""
    graph = import_graph()
    users = [(me, dep) for me, deps in graph.items() for dep in deps
             if dep.endswith(".commands") and me != "cli" and not me.endswith(".commands")]
    assert users == []


def test_the_checker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
