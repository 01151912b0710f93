"""Command line: Typer commands that parse, call one library function and print.

`main` is the `dubber` program. It imports nothing heavy before its Ctrl-C handling is in
place, so an interrupt at any moment, even while the libraries load, ends in one line and 130.
"""

import os
import signal
import sys

INTERRUPTED = 130
BROKEN_PIPE = 1  # what Click exits with when the reader goes away during a command


def main() -> None:
    """Entry point of the `dubber` program."""
    try:
        from dubber.cli.app import run

        try:
            run()
        finally:  # a reader that went away (`dubber models list --json | head`) shows here
            sys.stdout.flush()
    except BrokenPipeError:
        # as `cat` does: stop quietly; stdout goes to /dev/null so the exit flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(BROKEN_PIPE)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this
        sys.stderr.write("error: interrupted\n")
        sys.exit(INTERRUPTED)
    finally:  # the work is done or given up: nothing after this may be interrupted
        signal.signal(signal.SIGINT, signal.SIG_IGN)
