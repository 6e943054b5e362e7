/** The shipped models and their data files (copied from ../shared/models; see models/README.md). */
import type { QModel } from '../../src/engine/ir.js';
import { importShipped, MODELS_DIR, shippedCalibration, shippedData, shippedOnnx, type ShippedData } from '../../src/onnx/shipped.js';

export { MODELS_DIR };
export type ModelData = ShippedData;

export type ModelName = 'wine-mlp' | 'digits-convnet' | 'tiny-gpt';
export const MODEL_NAMES: ModelName[] = ['wine-mlp', 'digits-convnet', 'tiny-gpt'];

export function onnxBytes(name: ModelName): Uint8Array {
  return shippedOnnx(name);
}

export function modelData(name: ModelName): ModelData {
  return shippedData(name);
}

export function calibrationRows(name: ModelName): number[][] {
  return shippedCalibration(name);
}

const cache = new Map<ModelName, QModel>();

/** The quantized model, imported once per test process. */
export function quantized(name: ModelName): QModel {
  let q = cache.get(name);
  if (!q) {
    q = importShipped(name);
    cache.set(name, q);
  }
  return q;
}
