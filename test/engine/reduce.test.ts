// Reductions: VJPs against central finite differences in float64 (checkOp).

import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

test("ReduceSum, ReduceMean, ReduceMax", async () => {
  await checkOp([[2, 3, 4]], (x) => E.reduceSum(x, [1]));
  await checkOp([[2, 3, 4]], (x) => E.reduceSum(x, [0, 2], true));
  await checkOp([[2, 3, 4]], (x) => E.reduceMean(x, [-1]));
  await checkOp([[3, 5]], (x) => E.reduceMax(x, [1], true));
});
