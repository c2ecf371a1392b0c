"""Errors a rank reports to the TypeScript supervisor: one JSON line with the fields of src/errors.ts."""

import json
import sys


class JobError(Exception):
    """A problem with the job's inputs (a model directory, a checkpoint): named file, field, expected/got, HINT."""

    def __init__(self, message, kind="checkpoint", path=None, field=None, expected=None, got=None, hint=None):
        super().__init__(message)
        self.fields = {"message": message, "kind": kind, "path": path, "field": field, "expected": expected,
                       "got": got, "hint": hint}


def report(err):
    """Print the error as one `{"event": "error", ...}` line on stdout (read by src/train/torch/launch.ts)."""
    fields = {k: v for k, v in err.fields.items() if v is not None}
    sys.stdout.write(json.dumps({"event": "error", **fields}) + "\n")
    sys.stdout.flush()
