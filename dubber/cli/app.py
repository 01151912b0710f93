"""The `dubber` command line: the Typer app, its global options and the entry point."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn

import typer
from rich.logging import RichHandler
from rich.markup import escape

from dubber import __version__
from dubber.cli import bench, components, dub, evaluate, live, models, serve, studio
from dubber.cli.output import console
from dubber.errors import DubberError, StoppedError
from dubber.settings import dubber_home, validate_environment

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
app.command()(studio.studio)
app.add_typer(evaluate.app, name="eval")
app.command()(bench.bench)
app.add_typer(models.app, name="models")


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
    validate_environment()
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    if quiet:
        level = logging.ERROR
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
        force=True,
    )


@functools.cache
def command() -> Callable[..., Any]:
    """The Click command Typer builds from `app`, built once a process (it reads every
    command's signature: ~80 ms, again at each call of `app()`)."""
    return typer.main.get_command(app)


def run(arguments: Sequence[str] | None = None) -> None:
    """Run the app on `arguments` (the command line's when None); a DubberError (or an error of
    the operating system) becomes one line on stderr and an exit code; Ctrl-C exits with 130."""
    try:
        command()(args=arguments, prog_name="dubber")
    except DubberError as error:
        fail(str(error), error.exit_code)
    except OSError as error:
        fail(describe_os_error(error), 1)
    except SystemExit as done:
        if done.code == StoppedError.exit_code:  # Typer's exit on Ctrl-C says nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            console.print("[bold red]error:[/] interrupted", highlight=False)
        raise


def fail(message: str, code: int) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    if code == StoppedError.exit_code:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


def describe_os_error(error: OSError) -> str:
    """One line for what the operating system refused, where the error does not say more."""
    where = f" {error.filename}" if error.filename else ""
    try:
        home = str(dubber_home())
    except DubberError:
        home = os.environ.get("DUBBER_HOME", "")
    hint = ""
    if home and error.filename and str(error.filename).startswith(home):
        hint = f": set DUBBER_HOME to a writable folder (it is {home})"
    return f"{error.strerror or error}{':' if where else ''}{where}{hint}"
