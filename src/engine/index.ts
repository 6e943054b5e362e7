/**
 * The integer engine's public API. Semantics: docs/ops.md.
 */
export type { AttrValue, DType, IntArray, OpType, Param, QModel, QNode, TensorData, TensorInfo, Trace } from './ir.js';
export { allocate, OP_TYPES, sizeOf } from './ir.js';
export { EngineInputError, EngineModelError, FormatError } from './errors.js';
export {
  clamp,
  floorDiv,
  isqrt,
  quantizeMultiplier,
  quantizeMultipliers,
  requant,
  roundDiv,
  rshr,
  type QuantizedMultiplier,
} from './fixedpoint.js';
export { ArenaCache, outputsOf, prepareModel, runBatch, runBatchOutputs, runModel, type PreparedModel } from './run.js';
export { decodeModel, encodeModel, canonicalJson, MAGIC, FORMAT_VERSION } from './format.js';
export { dequantizeLinear, dynamicQuantizeLinear, quantizeLinear, rintHalfEven, type QuantDType } from './boundary.js';
export { runOnnxIntegerNode, type OnnxAttrs, type OnnxIntegerOp, type OnnxTensor } from './onnxint.js';
export { setWasmGemmEnabled, wasmGemmAvailable } from './wasm.js';
export { kernelPath, nativeAvailable, nativeCpu, setNativeCpuPath, setNativeEnabled } from './native.js';
