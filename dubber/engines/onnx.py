"""ONNX Runtime sessions for the neural voices."""

from __future__ import annotations

from pathlib import Path

from dubber.settings import RuntimeOptions


def onnx_session(model: Path, runtime: RuntimeOptions):  # noqa: ANN201 - InferenceSession
    """An onnxruntime session with the runtime's threads, on CUDA when asked for and available."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = runtime.threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = ["CPUExecutionProvider"]
    if (
        runtime.device == "cuda"
        and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    ):
        providers.insert(0, "CUDAExecutionProvider")
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=providers)
