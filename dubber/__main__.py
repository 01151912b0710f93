"""`python -m dubber` runs the command line."""

from dubber.cli import main

main()
