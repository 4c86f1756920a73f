"""The layout rules, checked on the source: folders are pipeline stages and data flows one way.

- no import cycles between catalog's modules (imports inside functions count too);
- a stage imports only from stages before it and from the shared modules;
- no private name (`_x`) is imported from another module, ours or a library's;
- no module is over 400 lines;
- SQL lives only in catalog/storage;
- faster-whisper is imported only by catalog/asr/engine.py, and feedparser only by catalog/sources.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "catalog"
# The order data flows in: a module may import from its own rank or lower.
RANK = {
    "shared": 0,  # config, errors, models, mediatypes, language, files, dates
    "sources": 1,
    "media": 2,
    "transcripts": 3,
    "asr": 4,
    "storage": 5,
    "sync": 6,
    "app": 7,
    "cli": 8,
    "web": 8,  # catalog serve's pages: beside the CLI, over the same storage and app
    "testing": 9,  # support for tests and benchmarks; catalog itself never imports it
}
SHARED = {"__init__", "__main__", "config", "errors", "models", "mediatypes", "language", "files", "dates"}
MAX_LINES = 400
SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "shared"
    if len(parts) == 2 and parts[1] in SHARED:
        return "shared"
    return parts[1] if parts[1] in RANK else "shared"


def imports(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(module, names, line) of every import statement, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names], node.lineno


def catalog_edges(module: str) -> set[str]:
    """The catalog modules `module` imports (`from catalog.x import sub` names the submodule)."""
    edges = set()
    for target, names, _line in imports(MODULES[module]):
        if not target.startswith("catalog"):
            continue
        submodules = [f"{target}.{name}" for name in names if f"{target}.{name}" in MODULES]
        edges.update(submodules or [target])
    edges.discard(module)
    return edges


GRAPH = {module: catalog_edges(module) for module in MODULES}


def test_the_package_has_the_stage_folders() -> None:
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert folders == {"sources", "media", "transcripts", "asr", "storage", "sync", "cli", "web", "testing"}


def test_no_import_cycles() -> None:
    cycles = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_data_flows_one_way(module: str) -> None:
    own = RANK[stage(module)]
    backwards = [
        f"{module} ({stage(module)}) imports {target} ({stage(target)})"
        for target in GRAPH[module]
        if RANK[stage(target)] > own and not (stage(module) == "shared" and module in ("catalog", "catalog.__main__"))
    ]
    assert backwards == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_imported(module: str) -> None:
    private = [
        f"line {line}: from {target} import {name}"
        for target, names, line in imports(MODULES[module])
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    private += [
        f"line {line}: import {target}"
        for target, _names, line in imports(MODULES[module])
        if any(part.startswith("_") and not part.startswith("__") for part in target.split("."))
    ]
    assert private == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module: str) -> None:
    assert len(MODULES[module].read_text().splitlines()) <= MAX_LINES


# catalog/testing's crash checker reads the file with its own SQL on purpose: it must not trust the layer it checks.
@pytest.mark.parametrize("module", sorted(m for m in MODULES if stage(m) not in ("storage", "testing")))
def test_sql_only_in_storage(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    statements = [
        node.value[:60]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SQL.search(node.value)
    ]
    assert statements == []


@pytest.mark.parametrize(
    ("library", "allowed"),
    [("faster_whisper", {"catalog.asr.engine"}), ("feedparser", {"catalog.sources.feed_parser"})],
)
def test_one_home_for_each_library_we_go_deep_into(library: str, allowed: set[str]) -> None:
    users = {
        module
        for module, path in MODULES.items()
        for target, _names, _line in imports(path)
        if target == library or target.startswith(library + ".")
    }
    assert users == allowed


def sqlite3_connects(path: Path) -> list[int]:
    """Lines of `path` that open a connection with the stdlib sqlite3 (`sqlite3.connect(...)`)."""
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "connect"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "sqlite3"
    ]


def test_catalogues_are_opened_through_the_driver() -> None:
    """With the semantic extra, catalog's connections are sqlean's; a stdlib sqlite3 connection to the
    same file in the same process corrupts it (catalog.storage.driver). So nothing of ours, tests and
    benchmarks included, calls sqlite3.connect but the driver (a script run in another process may)."""
    root = PACKAGE.parent
    found = {
        str(path.relative_to(root)): lines
        for folder in ("catalog", "tests", "bench")
        for path in sorted((root / folder).rglob("*.py"))
        if (lines := sqlite3_connects(path)) and path.name != "driver.py"
    }
    assert found == {}


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The rules above catch what they are for (on a made-up module)."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from feedparser.mixin import _FeedParserMixin\ndef f(db):\n    return db.execute('SELECT id FROM items')\n"
    )
    bad.write_text(bad.read_text() + "import sqlite3\nsqlite3.connect('x.db')\n")
    assert sqlite3_connects(bad) == [5]
    names = [name for _t, names, _l in imports(bad) for name in names]
    assert names == ["_FeedParserMixin"]
    assert SQL.search("SELECT id FROM items") and not SQL.search("select the best format")
