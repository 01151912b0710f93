"""`python -m dubber` runs the command line."""

from dubber.cli.main import main

main()
