// MatMul (plain, batched, broadcast weight): VJPs against central finite differences in float64 (checkOp).

import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

test("MatMul: plain, batched, broadcast weight", async () => {
  await checkOp(
    [
      [3, 4],
      [4, 5],
    ],
    E.matmul,
  );
  await checkOp(
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    E.matmul,
  );
  await checkOp(
    [
      [2, 3, 4],
      [4, 5],
    ],
    E.matmul,
  );
  await checkOp(
    [
      [2, 2, 3, 4],
      [2, 1, 4, 3],
    ],
    E.matmul,
  );
});
