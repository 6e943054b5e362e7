/** The shipped models and their data files (copied from ../shared/models; see models/README.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importOnnx } from '../../src/onnx/import.js';
import type { QModel } from '../../src/engine/ir.js';

export const MODELS_DIR = join(import.meta.dirname, '..', '..', 'models');

export interface ModelData {
  input: string;
  shape: number[];
  x: number[][];
  y: number[] | number[][];
  calibration?: number[][];
  float_accuracy?: number;
  float_val_loss?: number;
  vocab?: string;
}

export type ModelName = 'wine-mlp' | 'digits-convnet' | 'tiny-gpt';
export const MODEL_NAMES: ModelName[] = ['wine-mlp', 'digits-convnet', 'tiny-gpt'];

export function onnxBytes(name: ModelName): Uint8Array {
  return readFileSync(join(MODELS_DIR, `${name}.onnx`));
}

export function modelData(name: ModelName): ModelData {
  return JSON.parse(readFileSync(join(MODELS_DIR, `${name}.data.json`), 'utf8')) as ModelData;
}

export function calibrationRows(name: ModelName): number[][] {
  if (name === 'tiny-gpt') {
    return (JSON.parse(readFileSync(join(MODELS_DIR, 'tiny-gpt.calibration.json'), 'utf8')) as { calibration: number[][] }).calibration;
  }
  return modelData(name).calibration!;
}

const cache = new Map<ModelName, QModel>();

/** The quantized model, imported once per test process. */
export function quantized(name: ModelName): QModel {
  let q = cache.get(name);
  if (!q) {
    q = importOnnx(onnxBytes(name), { name, inputShape: modelData(name).shape, calibration: calibrationRows(name) });
    cache.set(name, q);
  }
  return q;
}
