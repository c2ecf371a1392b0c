"""iopo's PyTorch training back end (`iopo train --engine torch`).

TypeScript prepares everything before the model (tokenized records, the step plan, the resolved loss, the job);
this package does forward, backward, AdamW, checkpoints and raw per-step numbers only. See docs/train.md.
"""

MIN_TORCH = (1, 13)
