"""The house rules the package's layout stands on, checked on its source (no model runs)."""

from __future__ import annotations

import ast
import functools
import graphlib
import importlib.metadata
import re
import sys

import tomllib

from tests.helpers.paths import REPO

PACKAGE = REPO / "dubber"


@functools.cache
def modules() -> dict[str, ast.Module]:
    """Every module of the package by its dotted name, parsed once for all the checks."""
    return {
        ".".join(path.relative_to(REPO).with_suffix("").parts): ast.parse(path.read_text())
        for path in PACKAGE.rglob("*.py")
    }


@functools.cache
def imports(tree: ast.Module) -> frozenset[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return frozenset(found)


def test_every_third_party_import_is_a_declared_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [
        requirement for extra in project["optional-dependencies"].values() for requirement in extra
    ]
    names = {re.split(r"[<>=!~\[; ]", requirement)[0].lower() for requirement in declared}
    names = {name.replace("_", "-") for name in names}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, tree in modules().items():
        for name in imports(tree):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "dubber":
                continue
            provided = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
            if not provided & names:
                undeclared.setdefault(top, []).append(module)
    assert not undeclared, f"imported but not in pyproject.toml: {undeclared}"


def test_ffmpeg_is_reached_one_way():
    """Only dubber.media.ffmpeg runs the ffmpeg and ffprobe programs and imports ffmpeg-python,
    which builds every command; no other bindings."""
    for module, tree in modules().items():
        imported = {n.split(".")[0] for n in imports(tree)}
        assert not {"av", "imageio_ffmpeg"} & imported, module
        if module != "dubber.media.ffmpeg":
            assert "ffmpeg" not in imported, module
            source = ast.unparse(tree)
            assert not re.search(r"which\(['\"]ff(mpeg|probe)", source), module


def test_the_audio_rate_is_defined_once():
    for path in PACKAGE.rglob("*.py"):
        if path != PACKAGE / "media" / "decode.py":
            assert not re.search(r"\b16_?000\b", path.read_text()), path


# The package's layers, lowest first: a module imports only from its own subpackage and from
# the layers below its own, never from a peer in the same layer.
LAYERS = (
    ("errors", "text"),
    ("settings", "inputs"),
    ("outputs",),
    ("media", "store"),
    ("speakers",),
    ("engines",),
    ("chain",),
    ("dub", "live", "serve"),
    ("studio", "measure"),
    ("cli",),
    ("__main__",),
)
LAYER_OF = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def part_of(module: str) -> str:
    """`dubber.engines.llm.prompts` -> `engines`; the package itself is `__init__`."""
    return module.split(".")[1] if module.count(".") else "__init__"


def runtime_imports(tree: ast.Module) -> set[str]:
    """The dubber modules a module imports when it runs (type-checking-only imports aside)."""
    hidden = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("dubber.")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dubber."):
            found.add(node.module)
    return found


def test_every_subpackage_has_a_layer():
    parts = {part_of(module) for module in modules()} - {"__init__"}
    assert parts == set(LAYER_OF), parts ^ set(LAYER_OF)


def test_no_import_goes_up_or_across_the_layers():
    wrong = []
    for module, tree in modules().items():
        part = part_of(module)
        if part == "__init__":
            continue
        for name in imports(tree):
            other = part_of(name) if name.startswith("dubber.") else part
            if other != part and LAYER_OF[other] >= LAYER_OF[part]:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = {module: set() for module in modules()}
    for module, tree in modules().items():
        for name in runtime_imports(tree):
            target = name if name in graph else name.rpartition(".")[0]
            if target in graph and target != module:
                graph[module].add(target)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
