#!/usr/bin/python3
"""PyTorch's float32 -> float16 / bfloat16 casts, as bit patterns, for the safetensors writer's test.

stdin: a JSON list of float32 bit patterns (unsigned 32-bit integers); stdout: {"f16": [...], "bf16": [...]}, the
16-bit patterns torch's `.to(torch.float16)` / `.to(torch.bfloat16)` give (round to nearest, ties to even).
Run by test/model/safetensors.test.ts with Debian's /usr/bin/python3 (apt-get install -y python3-torch).
"""

import json
import struct
import sys

import torch

bits = json.load(sys.stdin)
x = torch.tensor(struct.unpack(f"<{len(bits)}f", struct.pack(f"<{len(bits)}I", *bits)), dtype=torch.float32)
out = {name: [v & 0xFFFF for v in x.to(dtype).view(torch.int16).tolist()] for name, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16))}
json.dump(out, sys.stdout)
