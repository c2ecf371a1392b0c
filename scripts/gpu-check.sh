#!/usr/bin/env bash
# GPU check of `iopo train --engine torch` (issue 12) on one CUDA GPU with torch 2.x (+ transformers, peft):
# bf16 on the GPU vs fp32 on the CPU for a tiny model's first 3 IOPO losses (within 1e-2), then a Qwen2.5-0.5B-shaped
# model trained with IOPO in bf16 (full, gradient checkpointing, FSDP on one GPU, LoRA when present): tokens/s and
# peak GPU memory. Under 8 minutes on one H200. Needs no Node (scripts/gpu_check.py writes the job files).
# Usage: scripts/gpu-check.sh   (IOPO_PYTHON selects the interpreter; $OUT, if set, receives gpu-check.json)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${IOPO_PYTHON:-python3}"
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)' || {
  echo "gpu-check: $PY has no torch with CUDA (pip install torch)" >&2
  exit 3
}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
exec timeout 480 "$PY" scripts/gpu_check.py
