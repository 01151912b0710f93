"""Read a legacy (pre-zip) `torch.save` checkpoint without torch, and keep weights as `.npz`.

The legacy format is a run of pickles: a magic number, a protocol version, system info, the main
object (tensors appear as calls to `torch._utils._rebuild_tensor_v2` on persistent storage ids),
the list of storage keys, then each storage's raw bytes after an 8-byte element count. The
unpickler here resolves only those few names, to numpy builders, and refuses any other global, so
an untrusted file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# torch storage class name -> numpy dtype (little-endian, as written on x86 and ARM)
STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class CheckpointError(ValueError):
    """The file is not a legacy torch checkpoint this reader accepts."""


@dataclass(frozen=True, slots=True)
class _StorageType:
    dtype: np.dtype


@dataclass(slots=True)
class _Storage:
    key: str
    dtype: np.dtype
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class _Tensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _check_bounds(offset: int, shape: tuple, stride: tuple, numel: int, key: str) -> None:
    ints = (offset, *shape, *stride)
    if len(shape) != len(stride) or not all(type(v) is int and v >= 0 for v in ints):
        raise CheckpointError("a tensor with a bad offset, shape or stride")
    last = offset + sum((n - 1) * s for n, s in zip(shape, stride, strict=True))
    if all(shape) and last >= numel:
        raise CheckpointError(f"a tensor reaching past its storage {key}")


def _rebuild_tensor(storage: Any, offset: Any, shape: Any, stride: Any, *_rest: Any) -> _Tensor:
    if not isinstance(storage, _Storage) or not isinstance(shape, tuple | list):
        raise CheckpointError("a tensor whose storage is not a persistent storage")
    if not isinstance(stride, tuple | list):
        raise CheckpointError("a tensor with a bad stride")
    tensor = _Tensor(storage, offset, tuple(shape), tuple(stride))
    _check_bounds(tensor.offset, tensor.shape, tensor.stride, storage.numel, storage.key)
    return tensor


_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("collections", "OrderedDict"): OrderedDict,
    **{("torch", name): _StorageType(dtype) for name, dtype in STORAGE_DTYPES.items()},
}


class _Unpickler(pickle.Unpickler):
    """Resolves only the names a legacy state dict needs; storages become placeholders."""

    def __init__(self, file: BinaryIO, storages: dict[str, _Storage] | None = None) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise CheckpointError(f"refusing to load global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> _Storage:
        if self.storages is None:
            raise CheckpointError("a persistent id outside the main pickle")
        ok = isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
        if not ok or not isinstance(pid[1], _StorageType) or not isinstance(pid[2], str):
            raise CheckpointError(f"unsupported persistent id {pid!r:.80}")
        if pid[5:6] not in ((), (None,)):
            raise CheckpointError("storage views are not supported")
        _, kind, key, _location, numel = pid[:5]
        if not isinstance(numel, int) or numel < 0:
            raise CheckpointError("a storage with a bad size")
        storage = self.storages.setdefault(key, _Storage(key, kind.dtype, numel))
        if storage.dtype != kind.dtype:
            raise CheckpointError(f"storage {key} used with two types")
        return storage


def _load(file: BinaryIO, storages: dict[str, _Storage] | None = None) -> Any:
    try:
        return _Unpickler(file, storages).load()
    except CheckpointError:
        raise
    except Exception as exc:  # a damaged or foreign pickle
        raise CheckpointError(f"not a legacy torch checkpoint: {exc}") from exc


def _materialise(obj: Any) -> Any:
    if isinstance(obj, _Tensor):
        data = obj.storage.data
        if not isinstance(data, np.ndarray):
            raise CheckpointError(f"storage {obj.storage.key} has no data")
        # checked again on the bytes read: a pickle can rewrite a placeholder after its use
        _check_bounds(obj.offset, obj.shape, obj.stride, len(data), obj.storage.key)
        strides = tuple(s * data.itemsize for s in obj.stride)
        view = np.lib.stride_tricks.as_strided(data[obj.offset :], obj.shape, strides)
        return np.array(view)  # a contiguous copy
    if isinstance(obj, dict):
        out = {k: _materialise(v) for k, v in obj.items()}
        return OrderedDict(out) if isinstance(obj, OrderedDict) else out
    if isinstance(obj, list):
        return [_materialise(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialise(v) for v in obj)
    return obj


def read_legacy_checkpoint(source: str | Path | bytes) -> Any:
    """The object a legacy `torch.save` file holds, with every tensor as a numpy array."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    file = io.BytesIO(raw)
    if _load(file) != MAGIC:
        raise CheckpointError("not a legacy torch checkpoint (bad magic number)")
    if _load(file) != PROTOCOL_VERSION:
        raise CheckpointError("unsupported legacy torch protocol version")
    info = _load(file)
    if not isinstance(info, dict) or not info.get("little_endian", False):
        raise CheckpointError("only little-endian checkpoints are supported")
    storages: dict[str, _Storage] = {}
    obj = _load(file, storages)
    keys = _load(file)
    if not isinstance(keys, list) or set(keys) != set(storages):
        raise CheckpointError("the storage list does not match the tensors")
    for key in keys:
        storage = storages[key]
        head = file.read(8)
        if len(head) != 8 or int.from_bytes(head, "little") != storage.numel:
            raise CheckpointError(f"storage {key}: size mismatch")
        nbytes = storage.numel * storage.dtype.itemsize
        body = file.read(nbytes)
        if len(body) != nbytes:
            raise CheckpointError(f"storage {key}: truncated")
        storage.data = np.frombuffer(body, dtype=storage.dtype)
    return _materialise(obj)


def read_state_dict(source: str | Path | bytes, key: str = "model_state") -> dict[str, np.ndarray]:
    """The float32 arrays of a checkpoint's state dict (under `key`, or the top level)."""
    obj = read_legacy_checkpoint(source)
    if isinstance(obj, dict) and isinstance(obj.get(key), dict):
        obj = obj[key]
    if not isinstance(obj, dict):
        raise CheckpointError("the checkpoint holds no state dict")
    return {
        name: value.astype(np.float32)
        for name, value in obj.items()
        if isinstance(value, np.ndarray) and value.dtype.kind == "f"
    }
