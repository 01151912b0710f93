"""The house rules the package's layout stands on, checked on its source (no model runs)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

import tomllib

from tests.helpers.paths import REPO

PACKAGE = REPO / "dubber"


def modules() -> dict[str, ast.Module]:
    return {
        ".".join(path.relative_to(REPO).with_suffix("").parts): ast.parse(path.read_text())
        for path in PACKAGE.rglob("*.py")
    }


def imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


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
    """Only dubber.media.ffmpeg runs the ffmpeg and ffprobe programs; no Python bindings."""
    for module, tree in modules().items():
        assert not {"av", "ffmpeg", "imageio_ffmpeg"} & {n.split(".")[0] for n in imports(tree)}
        if module != "dubber.media.ffmpeg":
            source = ast.unparse(tree)
            assert not re.search(r"which\(['\"]ff(mpeg|probe)", source), module


def test_the_audio_rate_is_defined_once():
    for path in PACKAGE.rglob("*.py"):
        if path != PACKAGE / "engines" / "types.py":
            assert not re.search(r"\b16_?000\b", path.read_text()), path


def test_the_runtime_does_not_depend_on_measurement_or_the_command_line():
    for module, tree in modules().items():
        layer = module.split(".")[1]
        used = {name.split(".")[1] for name in imports(tree) if name.startswith("dubber.")}
        if layer not in ("cli", "__main__"):
            assert "cli" not in used, module
        if layer not in ("cli", "measure", "__main__"):
            assert "measure" not in used, module
