"""Preflight (`python -m iopo_torch check`): one JSON line with the Python, torch and optional package versions, or
`torch: null` when torch cannot be imported. TypeScript decides what is too old and what to tell the user."""

import importlib.util
import json
import sys


def main():
    info = {"python": sys.version.split()[0], "torch": None, "cuda": False, "gpus": 0, "error": None,
            "transformers": importlib.util.find_spec("transformers") is not None,
            "peft": importlib.util.find_spec("peft") is not None,
            "safetensors": importlib.util.find_spec("safetensors") is not None}
    try:
        import torch
        info["torch"] = torch.__version__
        info["cuda"] = bool(torch.cuda.is_available())
        info["gpus"] = torch.cuda.device_count() if info["cuda"] else 0
        info["bf16"] = bool(info["cuda"] and torch.cuda.is_bf16_supported())
        info["distributed"] = bool(torch.distributed.is_available())
    except Exception as e:  # ImportError, or a torch whose shared libraries are missing (OSError)
        info["error"] = f"{type(e).__name__}: {e}"
    sys.stdout.write(json.dumps(info) + "\n")
