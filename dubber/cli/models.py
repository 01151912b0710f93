"""`dubber models`: list, pull, import, prepare, verify, locate and remove models."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dubber.cli.options import OfflineOption, open_store
from dubber.errors import DubberError
from dubber.store.catalogue import Manifest
from dubber.store.store import InstalledModel, Store

app = typer.Typer(
    help="List the catalogue; pull, import, prepare, verify, locate and remove models.",
    no_args_is_help=True,
)
_err = Console(stderr=True)


class LLMRuntime(str, Enum):
    """The runtimes an LLM translator is prepared for."""

    openvino = "openvino"
    ctranslate2 = "ctranslate2"


WIDE_TABLE = 120  # columns from which the table has room for the notes
NARROW_CAPTION = "notes and where each model comes from: a wider window, or --json"
ModelIds = Annotated[list[str], typer.Argument(help="Model ids (see 'dubber models list').")]


@app.command("list")
def list_models(
    installed_only: Annotated[
        bool, typer.Option("--installed", help="Only models that are installed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every catalogue model and where it is installed."""
    store = Store()
    installed = {model.id: model for model in store.installed()}
    rows = [
        (manifest, installed.get(manifest.id))
        for manifest in store.catalogue.all()
        if manifest.id in installed or not installed_only
    ]
    if as_json:
        print(json.dumps([_summary(m, i) for m, i in rows], indent=2, ensure_ascii=False))
        return
    out = Console()
    wide = out.width >= WIDE_TABLE
    table = Table(show_lines=False, caption=None if wide else NARROW_CAPTION)
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("languages")
    table.add_column("size", no_wrap=True)
    table.add_column("installed", no_wrap=not wide)
    if wide:
        table.add_column("notes")
    for manifest, model in rows:
        cells = [manifest.id, manifest.kind, _languages(manifest), f"{manifest.size_mb:.0f} MB"]
        if model is None:
            cells.append("not installed")
        else:
            cells.append(escape(model.where) if wide else model.origin)
        table.add_row(*cells, *([escape(manifest.notes)] if wide else []))
    out.print(table)


@app.command()
def pull(
    model_ids: ModelIds,
    force: Annotated[bool, typer.Option("--force", help="Download again even if installed.")] = (
        False
    ),
    offline: OfflineOption = False,
) -> None:
    """Download models from the Hugging Face Hub (OPUS-MT: convert to CTranslate2 int8)."""
    store = open_store(offline)
    for model_id in model_ids:
        store.catalogue.get(model_id)
    for model_id in model_ids:
        model = store.pull(model_id, force=force)
        print(f"{model.id}: {store.path(model.id)} ({model.where})")


@app.command()
def prepare(
    model_ids: ModelIds,
    runtime: Annotated[
        LLMRuntime | None,
        typer.Option(help="For an LLM: the runtime to prepare it for \\[default: this machine's]."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Make again what comes from packs (a damaged copy).")
    ] = False,
) -> None:
    """Make installed models ready to load, as their first use would: join split PyPI packs
    into the store, convert an LLM for its runtime (OpenVINO IR or CTranslate2)."""
    from dubber.engines.llm.runtimes import runtime_for
    from dubber.settings import resolve_device

    store = open_store(offline=False)
    manifests = [store.catalogue.get(model_id) for model_id in model_ids]
    for manifest in manifests:
        llm = manifest.engine == "llm"
        name = (runtime.value if runtime else runtime_for(resolve_device())) if llm else None
        was = "was" if store.is_prepared(manifest.id, name) else "is now"
        was = "is now" if force else was
        folder = store.prepare(manifest.id, name, force=force)
        print(f"{manifest.id}: {folder} ({was} prepared{f' for {name}' if name else ''})")


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(help="A model folder, a .tar, .tar.gz, .tgz or .zip archive, or a .gguf."),
    ],
    model_id: Annotated[
        str | None,
        typer.Option("--id", help="Model id \\[default: from the folder's record or its files]."),
    ] = None,
) -> None:
    """Install a model from a local folder, archive or .gguf file (for machines without
    network); a GGUF chat model is converted to CTranslate2 int8 (a minute or two)."""
    with _err.status(f"importing {path.name}"):
        model = Store().import_path(path, model_id)
    print(f"{model.id}: {model.path}")


@app.command()
def verify(
    model_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Model ids \\[default: every installed model]."),
    ] = None,
) -> None:
    """Re-hash installed models' files; report every missing or corrupt file."""
    store = Store()
    ids = model_ids or [model.id for model in store.installed()]
    failed = []
    for model_id in ids:
        problems = store.verify(model_id)
        for problem in problems:
            print(f"{model_id}: {problem}")
        if problems:
            failed.append(model_id)
            print(f"{model_id}: to repair it, {store.repair(model_id)}")
        else:
            print(f"{model_id}: ok")
    if failed:
        raise DubberError(f"{', '.join(failed)} failed verification: see the repair above")


@app.command()
def path(model_id: Annotated[str, typer.Argument(help="Model id.")]) -> None:
    """Print an installed model's folder."""
    print(Store().path(model_id))


@app.command()
def remove(
    model_id: Annotated[str, typer.Argument(help="Model id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a model from the store (models from PyPI packs are removed with pip)."""
    store = Store()
    folder = store.removable(model_id)
    if not yes:
        typer.confirm(f"Delete {folder}?", abort=True)
    store.remove(model_id)
    print(f"removed {model_id}")


def _languages(manifest: Manifest) -> str:
    source, target = manifest.source_languages, manifest.target_languages
    if not source:  # a speaker encoder: voices, whatever the language
        return "any"
    if len(source) > 4:
        return f"{len(source)} languages"
    if source == target:
        return ", ".join(source)
    return f"{', '.join(source)} -> {', '.join(target)}"


def _summary(manifest: Manifest, model: InstalledModel | None) -> dict:
    return {
        "id": manifest.id,
        "kind": manifest.kind,
        "engine": manifest.engine,
        "source_languages": list(manifest.source_languages),
        "target_languages": list(manifest.target_languages),
        "native": manifest.native,
        "voices": list(manifest.voices),
        "size_mb": manifest.size_mb,
        "licence": manifest.licence,
        "notes": manifest.notes,
        "installed": model.where if model else None,
        "path": str(model.path) if model and model.path else None,
    }
