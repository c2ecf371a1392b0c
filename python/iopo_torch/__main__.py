"""`python -m iopo_torch check | train <job.json> | logps <job.json>` (started by src/train/torch/launch.ts)."""

import sys


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "check":
        from .check import main as check
        check()
        return 0
    if cmd in ("train", "logps") and len(sys.argv) == 3:
        from .train import run
        return run(cmd, sys.argv[2])
    sys.stderr.write("usage: python -m iopo_torch check | train <job.json> | logps <job.json>\n")
    return 2


sys.exit(main())
