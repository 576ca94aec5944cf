"""Reads a PyTorch `state_dict` file into numpy arrays, with or without PyTorch installed.

Published weights of reference networks (the FID Inception of pytorch-fid and
torch-fidelity) are `torch.save` files. zoo runs on TensorFlow and JAX, so this reader
needs only the standard library and numpy. It reads both formats `torch.save` has
written: the zip archive (PyTorch >= 1.6, `archive/data.pkl` plus one entry per storage)
and the legacy stream (a magic number, the pickle, then the raw storages), which is
what files written before mid-2020 are. The pickle is read with an unpickler that
builds only tensors, `OrderedDict`s and plain containers: it cannot run other code.
"""

import collections
import io
import pickle
import struct
import zipfile

import numpy as np

# torch.save's legacy stream starts with this pickled int (torch/serialization.py).
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


def read_state_dict(path):
    """The tensors of a `torch.save(state_dict)` file as `{name: numpy array}`.

    Args:
        path: str or `Path` of a `.pth`/`.pt` file written by `torch.save` (either
            format) whose object is a dict of tensors, as `module.state_dict()` is.

    Returns:
        dict `{str: numpy.ndarray}` in the file's order; bfloat16 tensors become float32.

    Raises:
        ValueError: if the file is not a `torch.save` file or holds something other
            than a dict of tensors (e.g. a whole pickled module).

    Example:
    ```python
    state = zoo.nets.read_state_dict("pt_inception-2015-12-05-6726825d.pth")
    state["fc.weight"].shape  # (1008, 2048)
    ```
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            state = _read_zip(data, path)
        else:
            state = _read_legacy(data, path)
    except pickle.UnpicklingError as error:
        raise ValueError(f"{path} is not a plain, whole state_dict file: {error}") from None
    except (EOFError, KeyError, IndexError, TypeError, struct.error, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is a damaged or truncated torch.save file ({type(error).__name__}: {error})") from None
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise ValueError(f"{path} does not hold a state_dict (a dict of tensors); got {type(state).__name__}")
    return dict(state)


class StateDictWeights:
    """Takes a PyTorch state dict's tensors by name and shape, and checks that every one was taken.

    What the loaders of reference networks (`load_fid_inception_state_dict`,
    `load_lpips_vgg16_state_dict`) share: a missing or misshapen tensor, or one left
    over, means the file is another network's, and says so by name.

    Args:
        state_dict: dict `{name: array}`: numpy arrays (`read_state_dict`) or CPU tensors.
        network: str, what the file should hold, for messages ("torchvision's VGG16").
        ignore: callable `name -> bool`, tensors that are neither taken nor left over.
    """

    def __init__(self, state_dict, network, ignore=lambda name: False):
        self.state = {k: np.asarray(v) for k, v in state_dict.items() if not ignore(k)}
        self.network = network
        self.used = set()

    def take(self, key, shape):
        """The tensor `key`, which must have `shape`."""
        if key not in self.state:
            raise ValueError(f"the state dict has no {key!r}: it is not {self.network}'s")
        value = self.state[key]
        if value.shape != tuple(shape):
            raise ValueError(f"state dict {key!r} has shape {value.shape}; {self.network} needs {tuple(shape)}")
        self.used.add(key)
        return value

    def check_all_taken(self):
        unused = sorted(set(self.state) - self.used)
        if unused:
            raise ValueError(f"the state dict has {len(unused)} weights {self.network} does not use, e.g. "
                             f"{unused[0]!r}: it is another network's")


class _Storage:
    """A storage's dtype and its flat data once read."""

    def __init__(self, dtype, data=None):
        self.dtype = dtype
        self.data = data


def _storage_dtype(name):
    dtype = _STORAGE_DTYPES.get(name)
    if dtype is None:
        raise ValueError(f"unsupported tensor storage torch.{name} (supported: {', '.join(_STORAGE_DTYPES)})")
    return dtype


def _flat(buffer, dtype, count=None):
    if dtype == "bfloat16":  # the high half of a float32
        raw = np.frombuffer(buffer, dtype="<u2", count=-1 if count is None else count)
        return (raw.astype(np.uint32) << 16).view(np.float32)
    dtype = np.dtype(dtype).newbyteorder("<")
    return np.frombuffer(buffer, dtype=dtype, count=-1 if count is None else count)


def _rebuild_tensor(storage, offset, size, stride, *unused):
    itemsize = 4 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(n > 0 for n in size) else offset - 1
    if offset < 0 or min(stride, default=0) < 0 or last >= storage.data.size:
        raise pickle.UnpicklingError(f"a tensor of shape {tuple(size)} reaches past its storage's "
                                     f"{storage.data.size} elements (a truncated file?)")
    view = np.lib.stride_tricks.as_strided(
        storage.data[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride), writeable=False
    )
    return np.array(view)


def _rebuild_parameter(tensor, *unused):
    return tensor


class _Unpickler(pickle.Unpickler):
    """Builds tensors from storages; refuses every global but the few a state_dict uses."""

    def __init__(self, file, load_storage):
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _LazyTensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return name
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a state_dict; refusing to load it")

    def persistent_load(self, pid):
        # ("storage", storage type, key, location, numel[, view metadata])
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return self._load_storage(_storage_dtype(pid[1]), str(pid[2]))


class _PlainUnpickler(pickle.Unpickler):
    """Numbers, strings and containers only: the legacy format's header and storage keys."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a torch.save header; refusing to load it")


def _plain_load(f):
    return _PlainUnpickler(f).load()


def _read_zip(data, path):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ValueError(f"{path} is a zip file but not a torch.save archive (no single data.pkl)")
        prefix = pickles[0][: -len("data.pkl")]

        def load_storage(dtype, key):
            return _Storage(dtype, _flat(archive.read(f"{prefix}data/{key}"), dtype))

        return _materialise(_Unpickler(io.BytesIO(archive.read(pickles[0])), load_storage).load())


def _read_legacy(data, path):
    f = io.BytesIO(data)
    try:
        magic = _plain_load(f)
    except Exception:
        magic = None
    if magic != _LEGACY_MAGIC:
        raise ValueError(f"{path} is not a torch.save file (neither a zip archive nor the legacy format)")
    if _plain_load(f) != _LEGACY_PROTOCOL:
        raise ValueError(f"{path}: unsupported torch.save protocol version")
    _plain_load(f)  # system info: byte order and type sizes (little-endian files only)
    storages = {}

    def load_storage(dtype, key):
        return storages.setdefault(key, _Storage(dtype))

    state = _Unpickler(f, load_storage).load()
    keys = _plain_load(f)
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        storage = storages[str(key)]
        itemsize = 2 if storage.dtype == "bfloat16" else np.dtype(storage.dtype).itemsize
        chunk = f.read(count * itemsize)
        if len(chunk) != count * itemsize:
            raise pickle.UnpicklingError(f"storage {key} stops {count * itemsize - len(chunk)} bytes short")
        storage.data = _flat(chunk, storage.dtype, count)
    return _materialise(state)


def _materialise(value):
    """Tensors are built after the pickle is read: the legacy format stores the data after it."""
    if isinstance(value, _LazyTensor):
        return value.build()
    if isinstance(value, dict):
        return type(value)((k, _materialise(v)) for k, v in value.items())
    return value


class _LazyTensor:
    def __init__(self, *args):
        self.args = args

    def build(self):
        return _rebuild_tensor(*self.args)
