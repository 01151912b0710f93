"""Audio devices through PortAudio (sounddevice), with one-line errors when there are none."""

from __future__ import annotations

from dubber.errors import DubberError

NO_DEVICE_HINT = "or use --input FILE (a recording played at real-time pace)"


def import_sounddevice():  # noqa: ANN201 - the sounddevice module
    """sounddevice, or a one-line DubberError when PortAudio is missing."""
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        raise DubberError(
            f"no audio devices: PortAudio is not available ({first_line(error)}); "
            f"install libportaudio2, {NO_DEVICE_HINT}"
        ) from error
    return sounddevice


def device_info(device: str | int | None, kind: str) -> dict:
    sd = import_sounddevice()
    try:
        return dict(sd.query_devices(device, kind))
    except (ValueError, sd.PortAudioError) as error:
        what = f"{kind} device '{device}'" if device is not None else f"default {kind} device"
        raise DubberError(
            f"{what} not found ({first_line(error)}): see 'dubber live --list-devices', "
            f"{NO_DEVICE_HINT}"
        ) from error


def list_devices() -> str:
    """PortAudio's device list, as sounddevice prints it."""
    sd = import_sounddevice()
    try:
        return str(sd.query_devices())
    except sd.PortAudioError as error:
        raise DubberError(f"cannot list audio devices ({first_line(error)})") from error


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
