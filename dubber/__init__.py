"""dubber: English speech into Spanish speech, file by file or live."""

__version__ = "0.1.0"
