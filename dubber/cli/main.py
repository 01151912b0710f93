"""The `dubber` command line: the Typer app, its global options and the entry point."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.logging import RichHandler

from dubber import __version__
from dubber.cli import bench, components, dub, evaluate, live, models, serve
from dubber.cli.output import console
from dubber.errors import DubberError, StoppedError

app = typer.Typer(
    name="dubber",
    help="Dub English speech into Spanish: video and audio files, or live from a microphone.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.command()(dub.dub)
app.command()(dub.demo)
app.command()(live.live)
app.command()(components.transcribe)
app.command()(components.translate)
app.command()(components.speak)
app.command()(serve.serve)
app.add_typer(evaluate.app, name="eval")
app.command()(bench.bench)
app.add_typer(models.app, name="models", help="List, pull, import, verify and remove models.")


def _version(value: bool) -> None:
    if value:
        print(f"dubber {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        int,
        typer.Option(
            "-v", "--verbose", count=True, help="Say more: -v which engines and why, -vv debug."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only show errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Dub English speech into Spanish."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    if quiet:
        level = logging.ERROR
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )


def main() -> None:
    """Entry point: run the app; a DubberError becomes one line on stderr and an exit code."""
    try:
        app()
    except DubberError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        console.print("[bold red]error:[/] interrupted")
        sys.exit(StoppedError.exit_code)
