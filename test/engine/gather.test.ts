// Indexing ops and their scatter-add adjoints: VJPs against central finite differences in float64 (checkOp).

import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

test("Gather (with repeated and with unique rows), Embed, GatherElements, GatherND, ScatterElements, ScatterND", async () => {
  await checkOp([[5, 3], { shape: [2, 3], int64: [0, 4, 4, 1, 0, 2] }], (d, i) => E.gather(d, i));
  await checkOp([[6, 3], { shape: [2, 2], int64: [5, 0, 3, 1] }], (d, i) => E.gather(d, i, { unique: true }));
  // Embed: ids with repeats; rows = the distinct ids (the adjoint sums each id's rows).
  await checkOp(
    [[7, 4], { shape: [2, 3], int64: [3, 0, 3, 6, 0, 3] }, { shape: [3], int64: [0, 3, 6] }],
    (t, i, r) => E.embed(t, i, r),
    { reference: (xs) => [3, 0, 3, 6, 0, 3].flatMap((id) => xs[0]!.slice(id * 4, id * 4 + 4)) },
  );
  await checkOp([[3, 4], { shape: [3, 2], int64: [0, 3, 1, 1, 2, 0] }], (d, i) => E.gatherElements(d, i, 1));
  await checkOp([[3, 4], { shape: [2, 2], int64: [0, 1, 2, 3] }], E.gatherND);
  await checkOp([[3, 4], { shape: [3, 2], int64: [0, 3, 1, 1, 2, 0] }, [3, 2]], (d, i, u) =>
    E.scatterElementsAdd(d, i, u, 1),
  );
  await checkOp([[4, 3], { shape: [3, 1], int64: [2, 0, 2] }, [3, 3]], E.scatterNDAdd);
});
