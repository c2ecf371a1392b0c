// The engine's public surface: graph building, ops, compositions, autodiff, ONNX emission and the runtime.

export { AdamW, type AdamWOptions, type AdamWParam } from "./adamw.ts";
export { grad, gradients, vjp } from "./autodiff.ts";
export { after, checkpoint } from "./checkpoint.ts";
export {
  add,
  cast,
  div,
  equal,
  exp,
  less,
  log,
  maximum,
  mul,
  neg,
  reciprocal,
  sigmoid,
  sqrt,
  stopGradient,
  sub,
  where,
} from "./elementwise.ts";
export { embed, gather, gatherElements, gatherND, scatterElementsAdd, scatterNDAdd } from "./gather.ts";
export {
  callerSite,
  currentGraph,
  describeNode,
  emit,
  Graph,
  type GraphJSON,
  type Node,
  type Segment,
  scope,
  trace,
} from "./graph.ts";
export { upcast } from "./half.ts";
export { matmul } from "./matmul.ts";
export {
  linear,
  logSoftmax,
  logSoftmaxGather,
  logSoftmaxGatherComposed,
  logSumExp,
  rmsNorm,
  rope,
  rotateHalf,
  silu,
  softmax,
  softmaxComposed,
} from "./nn.ts";
export { decodeOnnx, liveNodes, type OnnxModel, OPSET, type TensorInfo, toOnnx } from "./onnx.ts";
export { constant, scalar, type TensorLike } from "./opdef.ts";
export { LOWERINGS, OPS, type OpName, VJP_RULES } from "./ops.ts";
export { reduceMax, reduceMean, reduceSum } from "./reduce.ts";
export { type Feed, FeedPool, Program, type RuntimeOptions, type TypedArray } from "./runtime.ts";
export {
  concat,
  expand,
  input,
  pad,
  padSpan,
  reshape,
  slice,
  sliceSpan,
  transpose,
  transposeLast,
  zeros,
} from "./shape.ts";
export { type Dim, type DType, dimEq, formatShape, isHalf, numel, type Shape } from "./shapes.ts";
