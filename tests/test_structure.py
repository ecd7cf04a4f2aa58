"""Structural rules of the tree (issue 12): small modules (Python and Rust), the MPC coordinator
independent of the server, logging instead of prints outside the CLI layer, test modules that do
not import each other, and documents that name only what exists (docs/architecture.md: files,
modules, classes; every doc and README: source files; native/README.md: every Rust module; no
citation of "DESIGN §", a file outside the repository).

The import-graph rules between subpackages (no cycle, `solidity` does not import `market`) are
in ``tests/test_import_graph.py``; this file adds the module-level rules inside ``omnidsl.mpc``.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "omnidsl"
NATIVE = ROOT / "native" / "src"

#: "No module over about 500 lines" (no exemptions).
MAX_LINES = 500


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def oversized(files: list[Path], root: Path = ROOT, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """(path relative to ``root``, line count) of every file over ``limit`` lines."""
    return sorted((str(p.relative_to(root)), n) for p in files if (n := _lines(p)) > limit)


def test_no_python_module_over_500_lines() -> None:
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 50  # the walk found the package
    assert oversized(files) == []


def test_no_native_module_over_500_lines() -> None:
    files = sorted(NATIVE.rglob("*.rs"))
    assert any(p.name == "lib.rs" for p in files)
    assert oversized(files) == []


def test_native_readme_describes_every_module() -> None:
    """native/README.md names each ``src/*.rs`` file and ``src/<dir>/`` folder."""
    text = (ROOT / "native" / "README.md").read_text(encoding="utf-8")
    mods = [f"src/{p.name}" for p in sorted(NATIVE.glob("*.rs"))]
    mods += [f"src/{p.name}/" for p in sorted(NATIVE.iterdir()) if p.is_dir()]
    assert len(mods) >= 10
    assert [m for m in mods if f"`{m}`" not in text] == []


def test_the_size_check_sees_a_long_file(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (MAX_LINES + 1))
    short = tmp_path / "short.py"
    short.write_text("x = 1\n" * MAX_LINES)
    assert oversized([long, short], tmp_path) == [("long.py", MAX_LINES + 1)]


# ------------------------------------------------------------------ module imports in omnidsl


def module_name(path: Path, root: Path = ROOT) -> str:
    """omnidsl/mpc/server.py -> 'omnidsl.mpc.server'; a package's __init__.py -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every omnidsl module ``path`` imports (also inside functions; relative imports resolved;
    ``from omnidsl.x import y`` counts as ``omnidsl.x.y`` when that is a module, else as
    ``omnidsl.x``)."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] == "omnidsl" and _module_file(m, root) is not None}


def _module_file(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def module_graph() -> dict[str, set[str]]:
    """omnidsl module -> the omnidsl modules it imports."""
    return {module_name(p): imported_modules(p) - {module_name(p)}
            for p in sorted(PKG.rglob("*.py"))}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others (a package counts with its
    ``__init__``, which importing any of its modules runs)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        m = todo.pop()
        for dep in graph.get(m, ()):
            parents = [".".join(dep.split(".")[:k]) for k in range(2, dep.count(".") + 1)]
            for d in [dep, *parents]:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
    return seen


def _coordinator_modules(graph: dict[str, set[str]]) -> list[str]:
    mods = [m for m in graph if m == "omnidsl.mpc.coordinator"
            or m.startswith("omnidsl.mpc.coordinator.")]
    assert mods, "omnidsl.mpc.coordinator not found"
    return mods


def _is_server(m: str) -> bool:
    return m == "omnidsl.mpc.server" or m.startswith("omnidsl.mpc.server.")


def test_the_coordinator_does_not_import_the_server() -> None:
    graph = module_graph()
    assert any(graph[c] for c in _coordinator_modules(graph))  # its imports were read
    direct = sorted(m for c in _coordinator_modules(graph) for m in graph[c] if _is_server(m))
    assert direct == []


def test_the_coordinator_does_not_reach_the_server_through_other_modules() -> None:
    graph = module_graph()
    paths = sorted(m for c in _coordinator_modules(graph) for m in reachable(graph, c)
                   if _is_server(m))
    assert paths == []


def test_the_import_reader_resolves_relative_and_lazy_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "omnidsl" / "mpc"
    pkg.mkdir(parents=True)
    for name in ("__init__.py", "server.py", "codec.py"):
        (pkg / name).write_text("")
    (tmp_path / "omnidsl" / "__init__.py").write_text("")
    (pkg / "coordinator.py").write_text(
        "from . import codec\n\ndef f():\n    from .server import x\n")
    got = imported_modules(pkg / "coordinator.py", tmp_path)
    assert {"omnidsl.mpc.codec", "omnidsl.mpc.server"} <= got
    graph = {"a.b": {"a.b.c.d"}, "a.b.c.d": {"a.x"}, "a.x": set()}
    assert reachable(graph, "a.b") == {"a.b", "a.b.c", "a.b.c.d", "a.x"}


# ------------------------------------------------------------------ logging


def is_cli_layer(path: Path) -> bool:
    """The CLI (``cli.py``), the command modules and scripts run as ``python -m`` may print
    their results; every other module reports through ``logging``."""
    text = path.read_text(encoding="utf-8")
    return (path.name == "cli.py" or path.stem.endswith("commands")
            or 'if __name__ == "__main__"' in text)


def prints(path: Path) -> list[int]:
    """Lines of the ``print(...)`` calls in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name) and n.func.id == "print"]


def test_library_modules_log_instead_of_printing() -> None:
    files = [p for p in sorted(PKG.rglob("*.py")) if not is_cli_layer(p)]
    assert len(files) > 50
    found = [f"{p.relative_to(ROOT)}:{n}" for p in files for n in prints(p)]
    assert found == []


def test_the_print_finder_sees_calls(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def f(log):\n    log('x')\n    print('y')\n")
    assert prints(f) == [3]


def printed_warnings(path: Path) -> list[int]:
    """Lines of ``print("warning: ...")`` calls (also f-strings) in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for n in ast.walk(tree):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
                and n.args):
            first = n.args[0]
            parts = first.values if isinstance(first, ast.JoinedStr) else [first]
            head = parts[0] if parts else None
            if (isinstance(head, ast.Constant) and isinstance(head.value, str)
                    and head.value.lower().startswith("warning")):
                out.append(n.lineno)
    return out


def test_warnings_go_through_logging() -> None:
    """Also in the CLI layer: a warning is ``log.warning`` (``-q`` silences it), not a print."""
    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted(PKG.rglob("*.py"))
             for n in printed_warnings(p)]
    assert found == []


def test_the_warning_finder_sees_prints(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text('print("warning: a")\nprint(f"Warning: {1}")\nprint("ok")\n')
    assert printed_warnings(f) == [1, 2]


# ------------------------------------------------------------------ the tests themselves


def test_imports(path: Path) -> list[str]:
    """The test modules (``test_*``) and conftests ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            names += [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            mod = n.module or ""
            names += [mod] + [f"{mod}.{a.name}" if mod else a.name for a in n.names]
    last = [(m, m.rsplit(".", 1)[-1]) for m in names]
    return sorted({m for m, tail in last if tail.startswith("test_") or tail == "conftest"})


test_imports.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def test_no_test_module_imports_another() -> None:
    """Shared fixtures live in conftest.py, shared helpers in helper modules."""
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) > 100
    found = [f"{p.relative_to(ROOT)}: {m}" for p in files for m in test_imports(p)]
    assert found == []


def fixture_names(path: Path) -> set[str]:
    """The pytest fixtures ``path`` defines at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)
            and any("fixture" in ast.unparse(d) for d in n.decorator_list)}


def test_no_test_module_shadows_a_conftest_fixture() -> None:
    """A fixture name means one thing in a folder: a module defining a fixture its conftest.py
    (or a parent's) already provides gets another shape under the same name."""
    tests = ROOT / "tests"
    assert {"be", "nb"} <= fixture_names(tests / "mpc" / "conftest.py")  # the reader works
    shadowed = []
    for p in sorted(tests.rglob("test_*.py")):
        shared: set[str] = set()
        for d in [p.parent, *p.parent.parents]:
            if (d / "conftest.py").exists():
                shared |= fixture_names(d / "conftest.py")
            if d == tests:
                break
        shadowed += [f"{p.relative_to(ROOT)}: {f}" for f in sorted(fixture_names(p) & shared)]
    assert shadowed == []


def test_the_test_import_finder(tmp_path: Path) -> None:
    f = tmp_path / "test_x.py"
    f.write_text("from tests.mpc import test_local as T\nfrom test_market_e2e import DIM\n"
                 "from tests.mpc.helpers import run_parties\nimport conftest\n")
    assert test_imports(f) == ["conftest", "test_market_e2e", "tests.mpc.test_local"]


# ------------------------------------------------------------------ docs/architecture.md

ARCHITECTURE = ROOT / "docs" / "architecture.md"
_PATH = re.compile(r"^[\w./<>*-]+(\.(py|rs|md|sol|toml|j2|omni)|/)$")
_DOTTED = re.compile(r"^omnidsl(\.\w+)+$")


def named_paths(text: str) -> list[str]:
    """The file and folder names in backticks (``lang/parser.py``, ``mpc/``, ``omnidsl/cli.py``)."""
    return [t for t in re.findall(r"`([^`\n]+)`", text) if _PATH.match(t) and "/" in t]


def path_exists(name: str, here: Path | None = None) -> bool:
    """Relative to the repository, to ``omnidsl/`` or to ``here`` (the naming file's folder);
    ``<stage>`` stands for any folder."""
    pattern = re.sub(r"<[^>]+>", "*", name.rstrip("/")).removeprefix("./")
    if not pattern or pattern.startswith(("/", "~", "..")):
        return False
    bases = [ROOT, PKG] + ([here] if here else [])
    return any(any(base.glob(pattern)) for base in bases)


def dotted_exists(name: str) -> bool:
    """``omnidsl.lang.checker.CheckedRule``: a module, then attributes of it."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_architecture_names_only_files_that_exist() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    names = named_paths(text)
    assert len(names) >= 10  # the table was read
    assert [n for n in names if not path_exists(n)] == []


def test_architecture_names_only_modules_and_classes_that_exist() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    names = [t for t in re.findall(r"`([^`\n]+)`", text) if _DOTTED.match(t)]
    assert len(names) >= 5
    assert [n for n in names if not dotted_exists(n)] == []


#: The documents that name files: docs/*.md, every README.
DOCS = sorted((ROOT / "docs").glob("*.md")) + sorted(
    p for p in ROOT.rglob("README.md")
    if not {"node_modules", "target", ".venv"} & set(p.relative_to(ROOT).parts))


def doc_bases(doc: Path) -> Path | None:
    """Where a document's relative names start besides the repository and ``omnidsl/``: a
    README's folder; for docs/<stage>.md, ``omnidsl/<stage>/``."""
    if doc.name == "README.md":
        return doc.parent
    stage = PKG / doc.stem
    return stage if stage.is_dir() else None


def test_docs_name_only_source_files_that_exist() -> None:
    """Every source file a document names in backticks (``.py``, ``.rs``, ``.sol``, ``.j2``,
    ``.omni``, ``.md``) exists; folders and paths outside the repository are not checked."""
    assert len(DOCS) >= 10
    missing, checked = [], 0
    for doc in DOCS:
        for name in named_paths(doc.read_text(encoding="utf-8")):
            if name.endswith("/") or name.startswith(("../", "~")):
                continue
            checked += 1
            if not path_exists(name, doc_bases(doc)):
                missing.append(f"{doc.relative_to(ROOT)}: {name}")
    assert checked >= 50
    assert missing == []


def test_docs_name_only_bare_files_that_exist() -> None:
    """A bare file name in backticks (``server.py``, ``Market.sol``) exists in the document's
    package or folder, or anywhere in omnidsl/ (with omnidsl/contracts/), circuits/, tests/, benchmarks/ or
    native/src/."""
    roots = [PKG, PKG / "contracts", ROOT / "circuits", ROOT / "tests", ROOT / "benchmarks",
             NATIVE]
    missing, checked = [], 0
    for doc in DOCS:
        here = doc_bases(doc)
        text = doc.read_text(encoding="utf-8")
        for name in re.findall(r"`([\w.-]+\.(?:py|rs|sol|j2|omni))`", text):
            checked += 1
            if not any(any(r.rglob(name)) for r in [*([here] if here else []), *roots]):
                missing.append(f"{doc.relative_to(ROOT)}: {name}")
    assert checked >= 50
    assert missing == []


@pytest.mark.parametrize(("name", "exists"), [
    ("lang/parser.py", True), ("omnidsl/cli.py", True), ("mpc/", True),
    ("omnidsl/<stage>/commands.py", True), ("lang/nothing.py", False), ("DESIGN.md", False),
])
def test_the_path_check_tells_existing_from_missing(name: str, exists: bool) -> None:
    assert path_exists(name) is exists
    assert dotted_exists("omnidsl.field.R") and not dotted_exists("omnidsl.field.NoSuchName")


def test_nothing_cites_the_design_document() -> None:
    """"DESIGN §6" was a file outside the repository: cite docs/ instead."""
    roots = [PKG, ROOT / "docs", ROOT / "benchmarks", NATIVE]
    files = [p for r in roots if r.exists() for p in r.rglob("*")
             if p.is_file() and p.suffix in {".py", ".md", ".rs", ".sol", ".j2", ".toml"}]
    files += [ROOT / "README.md"]
    assert len(files) > 50
    assert sorted(str(p.relative_to(ROOT)) for p in files
                  if "DESIGN §" in p.read_text(encoding="utf-8", errors="replace")) == []
