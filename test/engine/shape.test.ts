// Shape ops: VJPs against central finite differences in float64 (checkOp).

import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

test("Reshape, Transpose, Slice, Concat, Expand", async () => {
  await checkOp([[2, 3, 4]], (x) => E.reshape(x, [6, -1]));
  await checkOp([[2, 3, 4]], (x) => E.transpose(x, [2, 0, 1]));
  await checkOp([[2, 6]], (x) => E.slice(x, 1, 2, 5));
  await checkOp([[2, 6]], (x) => E.slice(x, 1, 0, 6 - 1));
  await checkOp([[2, 3]], (x) => E.pad(x, 1, 2, 1), {
    reference: ([x]) => [0, 0, x[0], x[1], x[2], 0, 0, 0, x[3], x[4], x[5], 0],
  });
  await checkOp([[2, 3]], (x) => E.pad(x, 0, 0, 2));
  await checkOp(
    [
      [2, 3],
      [2, 2],
    ],
    (a, b) => E.concat([a, b, a], 1),
  );
  await checkOp([[3, 1]], (x) => E.expand(x, [2, 3, 4]));
});
