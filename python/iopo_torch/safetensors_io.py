"""safetensors files read and written without the `safetensors` package (F32/F16/BF16/F64; sharded directories
with model.safetensors.index.json). Tensors are named by their Hugging Face keys; nothing here knows a model."""

import json
import mmap
import os
import struct

import torch

from .errors import JobError

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}
TORCH_DTYPE_NAMES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}


def read_file(path):
    """All tensors of one file as {name: tensor} (copies out of a memory map; dtype as stored)."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise JobError("cannot open safetensors file", path=path, got=str(e),
                       hint="check the model directory (model.safetensors or the shards its index names)")
    with f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise JobError("safetensors file too small", path=path, expected="at least 8 bytes", got=str(size))
        (n,) = struct.unpack("<Q", f.read(8))
        if 8 + n > size:
            raise JobError("bad safetensors header length", path=path, expected=f"at most {size - 8}", got=str(n))
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise JobError("safetensors header is not JSON", path=path, got=str(e))
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        out = {}
        try:
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                dtype = DTYPES.get(info.get("dtype"))
                if dtype is None:
                    raise JobError("unsupported tensor dtype", path=path, field=name,
                                   expected="F32, F16, BF16 or F64", got=str(info.get("dtype")))
                begin, end = info["data_offsets"]
                shape = list(info["shape"])
                count = 1
                for d in shape:
                    count *= d
                if end - begin != count * torch.tensor([], dtype=dtype).element_size():
                    raise JobError("tensor byte range does not match its shape", path=path, field=name,
                                   expected=f"{count} elements", got=f"{end - begin} bytes")
                raw = bytearray(mm[8 + n + begin: 8 + n + end])
                t = torch.frombuffer(raw, dtype=dtype) if count else torch.empty(0, dtype=dtype)
                out[name] = t.reshape(shape)
        finally:
            mm.close()
        return out


def read_dir(model_dir):
    """Every tensor of a Hugging Face model directory (single file or sharded)."""
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(single):
        return read_file(single), single
    if os.path.exists(index):
        try:
            with open(index) as f:
                weight_map = json.load(f)["weight_map"]
        except (OSError, ValueError, KeyError) as e:
            raise JobError("cannot read the shard index", path=index, field="weight_map", got=str(e),
                           hint="model.safetensors.index.json must map every tensor name to its shard file")
        out = {}
        for shard in sorted(set(weight_map.values())):
            part = read_file(os.path.join(model_dir, shard))
            for k, v in part.items():
                if k in out:
                    raise JobError("tensor stored twice", path=os.path.join(model_dir, shard), field=k)
                out[k] = v
        return out, index
    raise JobError("no weights in model directory", path=model_dir,
                   expected="model.safetensors or model.safetensors.index.json",
                   hint="create a model with `iopo init-model --out <dir> --vocab-from <files>`")


def _header(path):
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            return json.loads(f.read(n))
    except (OSError, ValueError, struct.error) as e:
        raise JobError("cannot read the safetensors header", path=path, got=str(e),
                       hint="check the model directory (model.safetensors or the shards its index names)")


def read_headers(model_dir):
    """{name: {shape, dtype, file}} of a model directory's tensors, from the headers only (no data read)."""
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(single):
        files, where = [single], single
    elif os.path.exists(index):
        try:
            with open(index) as f:
                files = sorted({os.path.join(model_dir, v) for v in json.load(f)["weight_map"].values()})
        except (OSError, ValueError, KeyError) as e:
            raise JobError("cannot read the shard index", path=index, field="weight_map", got=str(e))
        where = index
    else:
        raise JobError("no weights in model directory", path=model_dir,
                       expected="model.safetensors or model.safetensors.index.json")
    out = {}
    for file in files:
        for name, info in _header(file).items():
            if name != "__metadata__":
                out[name] = {"shape": info["shape"], "dtype": info["dtype"], "file": file}
    return out, where


def _bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_file(path, tensors, dtype=None, metadata=None):
    """Write [(name, tensor)] in order, cast to `dtype` (a safetensors name) when given; atomic (temp + rename)."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    at = 0
    for name, t in tensors:
        if dtype is not None:
            t = t.to(DTYPES[dtype])  # round to nearest even, as the TypeScript writer
        b = _bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        at += len(b)
        blobs.append(b)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
