"""Read a PyTorch checkpoint without running anything it carries.

`torch.load` hands the file to pickle, and pickle calls whatever global the file names: a
checkpoint from a mirror can run `os.system` on the machine that opens it. `load(path)` here
reads both of PyTorch's checkpoint formats itself:

  - the zip format (torch.save since 1.6): ARCHIVE/data.pkl plus one ARCHIVE/data/KEY record
    per storage;
  - the legacy format (torch.save before 1.6 and with _use_new_zipfile_serialization=False,
    including the Python-2 files of the official Places365 release): a magic-number pickle,
    a protocol-version pickle, a sys-info pickle, the object pickle, a pickle of storage keys,
    then each storage as an int64 element count and its raw little-endian bytes.

Its unpickler admits only an allow-list of globals, and resolves each one to a function of
this file, never to the real global: the tensor-rebuild functions, storage types (CPU or
CUDA, both read onto the CPU), `collections.OrderedDict` and the plain containers. Anything
else is refused with UnsafeCheckpoint naming the global and the file before any of it runs.
Tensors are assembled only after unpickling, from sizes and strides checked against their
storage, so a malformed file gets a CheckpointFormatError, not an out-of-bounds view.

torch.load(weights_only=True) is not used, not even as a second check: torch 1.13's is among
the versions with the CVE-2025-32434 bypass, and a second parser adds its bugs, not safety.
"""
import collections
import io
import os
import pickle
import struct
import zipfile

import torch

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
MAX_TENSOR_DIMS = 64

STORAGE_DTYPES = {
    "DoubleStorage": torch.float64, "FloatStorage": torch.float32,
    "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
    "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
    "ComplexFloatStorage": torch.complex64, "ComplexDoubleStorage": torch.complex128,
    "UntypedStorage": torch.uint8,
}
STORAGE_MODULES = {"torch", "torch.cuda"}  # CUDA-saved files (the official ones) load on CPU

# Module prefixes of whole pickled networks: they need the network's class, so their globals
# are refused, and the message points at the state-dict release instead.
MODEL_CLASS_MODULES = ("torch.nn.", "torchvision.", "__main__", "wideresnet", "models.")


class CheckpointError(Exception):
    """A checkpoint that cannot be read; the message names the file."""


class UnsafeCheckpoint(CheckpointError):
    """The file asks for something outside the allow-list; nothing of it was run."""


class CheckpointFormatError(CheckpointError):
    """The file is not a well-formed PyTorch checkpoint."""


class _StorageType:
    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _TensorRecord:
    """What a rebuild call in the pickle asked for; turned into a tensor after unpickling.

    It refuses pickle's BUILD opcode, so a file cannot attach state to it."""
    __slots__ = ("storage", "offset", "size", "stride", "as_parameter")

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.as_parameter = False

    def __setstate__(self, state):
        raise CheckpointFormatError("the pickle sets state on a tensor")


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _TensorRecord(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    # requires_grad, hooks and metadata are dropped: a checkpoint's tensors are data.
    return _TensorRecord(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *_):
    if not isinstance(data, _TensorRecord):
        raise CheckpointFormatError("a parameter whose data is not a tensor")
    data.as_parameter = True
    return data


SAFE_GLOBALS = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
}


def _refusal(path, module, name):
    message = (f"{path}: refused: the file asks for the Python global '{module}.{name}', "
               "which is not tensor data (only tensors, storages, OrderedDict and plain "
               "containers are read); nothing from the file was run")
    if module.startswith(MODEL_CLASS_MODULES) or os.path.basename(path).startswith("whole_"):
        message += (". It looks like a whole pickled network (whole_*_places365.pth.tar): "
                    "use the state-dict release of the same network instead "
                    "(e.g. resnet18_places365.pth.tar)")
    return UnsafeCheckpoint(message)


class _RestrictedUnpickler(pickle._Unpickler):
    """Python's own unpickler in Python, not the C one: its memo is a dict, where the C
    unpickler's is an array that one LONG_BINPUT of a large index grows to gigabytes."""

    def __init__(self, file, path, storages):
        # latin1: Python 2 str objects in the legacy files come back as str, byte for byte.
        super().__init__(file, encoding="latin1")
        self._path = path
        self._storages = storages

    def find_class(self, module, name):
        if module in STORAGE_MODULES and name in STORAGE_DTYPES:
            return _StorageType(name, STORAGE_DTYPES[name])
        safe = SAFE_GLOBALS.get((module, name))
        if safe is None:
            raise _refusal(self._path, module, name)
        return safe

    def persistent_load(self, pid):
        return self._storages.resolve(pid)


def _ascii(value):
    return value.decode("ascii") if isinstance(value, bytes) else value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class _Storages:
    """Storages the pickle refers to: one flat CPU tensor per key, sized from the pid and
    bounded by the file's size before anything is allocated."""

    def __init__(self, path, byte_budget, zip_format):
        self.path = path
        self.byte_budget = byte_budget
        self.zip_format = zip_format
        self.by_key = {}
        self.declared_bytes = 0

    def fail(self, what):
        return CheckpointFormatError(f"{self.path}: {what}")

    def resolve(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise self.fail(f"unexpected persistent id {pid!r:.80}")
        kind = _ascii(pid[0])
        if kind == "module":
            raise UnsafeCheckpoint(
                f"{self.path}: refused: a whole pickled network (whole_*_places365.pth.tar); "
                "use the state-dict release of the same network instead")
        if kind != "storage":
            raise self.fail(f"unknown persistent id type {kind!r:.40}")
        if self.zip_format and len(pid) == 5:
            _, storage_type, key, _location, numel = pid
            view = None
        elif not self.zip_format and len(pid) == 6:
            _, storage_type, key, _location, numel, view = pid
        else:
            raise self.fail(f"a storage id with {len(pid)} fields")
        if not isinstance(storage_type, _StorageType):
            raise self.fail("a storage id without a storage type")
        key = str(_ascii(key))
        root = self.root(key, storage_type.dtype, numel)
        if view is None:
            return root
        return self.view(root, view)

    def root(self, key, dtype, numel):
        if key in self.by_key:
            stored = self.by_key[key]
            if stored.dtype != dtype or stored.numel() != numel:
                raise self.fail(f"storage {key} is declared twice with different types")
            return stored
        if not _is_int(numel) or numel < 0:
            raise self.fail(f"storage {key} has size {numel!r:.40}")
        nbytes = numel * torch.empty((), dtype=dtype).element_size()
        self.declared_bytes += nbytes
        if self.declared_bytes > self.byte_budget:
            raise self.fail(f"storages declare {self.declared_bytes} bytes, more than the "
                            f"whole file's {self.byte_budget}: truncated or corrupt")
        self.by_key[key] = torch.zeros(numel, dtype=dtype)
        return self.by_key[key]

    def view(self, root, view):
        if not (isinstance(view, tuple) and len(view) == 3):
            raise self.fail("a malformed storage view")
        view_key, offset, size = view
        if not (_is_int(offset) and _is_int(size) and 0 <= offset and 0 <= size
                and offset + size <= root.numel()):
            raise self.fail(f"storage view [{offset!r:.20}, +{size!r:.20}) outside a storage "
                            f"of {root.numel()} elements")
        return root[offset:offset + size]


def _tensor_from(record, path, max_elements):
    storage, offset, size, stride = record.storage, record.offset, record.size, record.stride
    if not isinstance(storage, torch.Tensor):
        raise CheckpointFormatError(f"{path}: a tensor whose storage is not a storage")
    if not (isinstance(size, (tuple, list)) and isinstance(stride, (tuple, list))
            and len(size) == len(stride) and len(size) <= MAX_TENSOR_DIMS
            and all(_is_int(v) and v >= 0 for v in list(size) + list(stride))
            and _is_int(offset) and offset >= 0):
        raise CheckpointFormatError(
            f"{path}: malformed tensor geometry: size {size!r:.80}, stride {stride!r:.80}, "
            f"offset {offset!r:.20}")
    numel = 1
    for extent in size:
        numel *= extent
    if numel > 0:
        last = offset + sum((extent - 1) * step for extent, step in zip(size, stride))
        if last >= storage.numel():
            raise CheckpointFormatError(
                f"{path}: a tensor of size {tuple(size)} and stride {tuple(stride)} at offset "
                f"{offset} reaches element {last} of a storage of {storage.numel()}")
    if numel > max_elements:
        raise CheckpointFormatError(
            f"{path}: a tensor of {numel} elements from a file of {max_elements} bytes")
    return storage.as_strided(tuple(size), tuple(stride), offset)


def _materialise(obj, path, max_elements):
    """Replaces every _TensorRecord in the unpickled containers with its tensor (shared
    records stay shared; self-referencing lists stay self-referencing)."""
    done = {}

    def walk(value):
        if id(value) in done:
            return done[id(value)]
        if isinstance(value, _TensorRecord):
            out = _tensor_from(value, path, max_elements)
            if value.as_parameter:
                out = torch.nn.Parameter(out, requires_grad=False)
        elif isinstance(value, dict):  # dict and OrderedDict (its _metadata is kept)
            out = type(value)()
            done[id(value)] = out
            for k, v in value.items():
                out[walk(k)] = walk(v)
            if getattr(value, "__dict__", None):
                out.__dict__.update(value.__dict__)
        elif isinstance(value, list):
            out = []
            done[id(value)] = out
            out.extend(walk(v) for v in value)
        elif isinstance(value, (tuple, set, frozenset)):
            out = type(value)(walk(v) for v in value)
        else:
            return value  # numbers, strings, bytes, None
        done[id(value)] = out
        return out

    try:
        return walk(obj)
    except RecursionError:
        raise CheckpointFormatError(f"{path}: containers nested too deeply") from None


def _unpickle(stream, path, storages):
    return _RestrictedUnpickler(stream, path, storages).load()


def _load_zip(path, size):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            if any(n.endswith("constants.pkl") for n in names):
                raise CheckpointFormatError(
                    f"{path}: a TorchScript archive (torch.jit.save), not a checkpoint")
            raise CheckpointFormatError(
                f"{path}: a zip without exactly one ARCHIVE/data.pkl (found {len(pickles)})")
        prefix = pickles[0][: -len("data.pkl")]
        storages = _Storages(path, size, zip_format=True)
        obj = _unpickle(io.BytesIO(_read_record(archive, pickles[0], size, path)), path, storages)
        big_endian = (prefix + "byteorder" in names
                      and _read_record(archive, prefix + "byteorder", 16, path).strip() == b"big")
        for key, storage in storages.by_key.items():
            record = prefix + "data/" + key
            if record not in names:
                raise CheckpointFormatError(f"{path}: storage record {record} is missing")
            expected = storage.numel() * storage.element_size()
            _fill(storage, _read_record(archive, record, expected, path), big_endian,
                  f"{path}: {record}")
    return obj


def _read_record(archive, name, limit, path):
    """A record's bytes, refused before decompression if it claims more than `limit` (a
    deflated record could otherwise expand far beyond the file)."""
    declared = archive.getinfo(name).file_size
    if declared > limit:
        raise CheckpointFormatError(f"{path}: record {name} holds {declared} bytes, expected "
                                    f"at most {limit}")
    return archive.read(name)


def _fill(storage, raw, big_endian, where):
    expected = storage.numel() * storage.element_size()
    if len(raw) != expected:
        raise CheckpointFormatError(f"{where}: {len(raw)} bytes, expected {expected}")
    if expected == 0:
        return
    if storage.dtype == torch.bool and max(raw) > 1:
        raise CheckpointFormatError(f"{where}: a bool storage holds a byte other than 0 or 1")
    buffer = bytearray(raw)
    source = torch.frombuffer(buffer, dtype=torch.uint8)
    storage.view(torch.uint8).copy_(source)
    del source  # it borrows `buffer`, which must outlive it
    if big_endian and storage.element_size() > 1:
        as_bytes = storage.view(torch.uint8).view(-1, storage.element_size())
        as_bytes.copy_(as_bytes.flip(1))


def _load_legacy(path, size):
    storages = _Storages(path, size, zip_format=False)
    # In memory, so that a length field in the file never sizes a read buffer.
    with open(path, "rb") as file:
        f = io.BytesIO(file.read())
    if _unpickle(f, path, storages) != LEGACY_MAGIC_NUMBER:
        raise CheckpointFormatError(f"{path}: not a PyTorch checkpoint (no magic number)")
    version = _unpickle(f, path, storages)
    if version != LEGACY_PROTOCOL_VERSION:
        raise CheckpointFormatError(
            f"{path}: legacy protocol version {version!r:.20}, expected "
            f"{LEGACY_PROTOCOL_VERSION}")
    sys_info = _unpickle(f, path, storages)
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise CheckpointFormatError(f"{path}: written on a big-endian machine")
    obj = _unpickle(f, path, storages)
    keys = _unpickle(f, path, storages)
    if not isinstance(keys, list):
        raise CheckpointFormatError(f"{path}: the storage key list is not a list")
    for key in keys:
        key = str(_ascii(key))
        if key not in storages.by_key:
            raise CheckpointFormatError(f"{path}: data for undeclared storage {key}")
        storage = storages.by_key[key]
        header = f.read(8)
        if len(header) != 8:
            raise CheckpointFormatError(f"{path}: truncated before storage {key}")
        (count,) = struct.unpack("<q", header)
        if count != storage.numel():
            raise CheckpointFormatError(
                f"{path}: storage {key} holds {count} elements, declared "
                f"{storage.numel()}")
        _fill(storage, f.read(count * storage.element_size()), False,
              f"{path}: storage {key}")
    return obj


def load(path):
    """The object a torch.save wrote to `path`, tensors on the CPU; raises CheckpointError."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        if zipfile.is_zipfile(path):
            obj = _load_zip(path, size)
        else:
            obj = _load_legacy(path, size)
        return _materialise(obj, path, max(size, 1))
    except CheckpointError:
        raise
    except OSError as e:
        raise CheckpointFormatError(f"{path}: {e.strerror or e}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, OverflowError, MemoryError, RuntimeError, zipfile.BadZipFile,
            UnicodeDecodeError, struct.error) as e:
        raise CheckpointFormatError(
            f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})") from None
