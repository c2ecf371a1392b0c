// The op registry: every primitive's ONNX lowering and VJP rule, keyed by op name. OpName is derived from it,
// so an op without a rule or a lowering fails to compile. Compositions (softmax, RMSNorm, …) live in nn.ts.

import { CHECKPOINT } from "./checkpoint.ts";
import { ELEMENTWISE } from "./elementwise.ts";
import { GATHER } from "./gather.ts";
import { HALF } from "./half.ts";
import { MATMUL } from "./matmul.ts";
import type { Lowering, OpDef, VjpRule } from "./opdef.ts";
import { REDUCE } from "./reduce.ts";
import { SHAPE } from "./shape.ts";
import { SOFTMAX } from "./softmax.ts";

export const OPS = {
  ...ELEMENTWISE,
  ...REDUCE,
  ...SHAPE,
  ...MATMUL,
  ...GATHER,
  ...SOFTMAX,
  ...CHECKPOINT,
  ...HALF,
} satisfies Record<string, OpDef>;

export type OpName = keyof typeof OPS;

const pick = <K extends keyof OpDef>(key: K) =>
  Object.fromEntries(Object.entries(OPS).map(([name, def]) => [name, def[key]])) as { [N in OpName]: OpDef[K] };

export const VJP_RULES = pick("vjp") satisfies Record<OpName, VjpRule>;
export const LOWERINGS = pick("lower") satisfies Record<OpName, Lowering>;

export const isOpName = (op: string): op is OpName => Object.hasOwn(OPS, op);
