"""Command line: Typer commands that parse, call one library function and print.

`main` is the `dubber` program. It imports nothing heavy before its Ctrl-C handling is in
place, so an interrupt at any moment, even while the libraries load, ends in one line and 130.
"""

import signal
import sys

INTERRUPTED = 130


def main() -> None:
    """Entry point of the `dubber` program."""
    try:
        from dubber.cli.app import run

        run()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this
        sys.stderr.write("error: interrupted\n")
        sys.exit(INTERRUPTED)
    finally:  # the work is done or given up: nothing after this may be interrupted
        signal.signal(signal.SIGINT, signal.SIG_IGN)
