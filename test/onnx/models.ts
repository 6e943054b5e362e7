/** The shipped models and their data files (copied from ../shared/models; see models/README.md). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * The larger models kept beside the clone in ../shared/models (see its README.md), not in models/: tests and benches
 * that use them skip with a printed reason when that directory is absent (CI has it).
 */
export const SHARED_MODELS_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'models');
export type SharedModelName = 'gpt-mid' | 'mobile-net';
export const SHARED_MODEL_NAMES: SharedModelName[] = ['gpt-mid', 'mobile-net'];

/** Whether ../shared/models holds `name` (its .onnx and data file). */
export function haveShared(name: SharedModelName): boolean {
  return existsSync(join(SHARED_MODELS_DIR, `${name}.onnx`)) && existsSync(join(SHARED_MODELS_DIR, `${name}.data.json`));
}

const sharedCache = new Map<SharedModelName, QModel>();

/** A ../shared/models model, imported (folded with its data file's shape, calibrated on its rows) once per process. */
export function sharedQuantized(name: SharedModelName): QModel {
  let q = sharedCache.get(name);
  if (!q) {
    q = importShipped(name, { modelsDir: SHARED_MODELS_DIR });
    sharedCache.set(name, q);
  }
  return q;
}

/** A ../shared/models model's data file. */
export function sharedData(name: SharedModelName): ModelData {
  return shippedData(name, SHARED_MODELS_DIR);
}
