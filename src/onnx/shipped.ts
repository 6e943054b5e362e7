/**
 * The shipped models in models/ (see models/README.md): `<name>.onnx`, its data file `<name>.data.json` (input shape,
 * held-out rows x / y, calibration rows, float scores, a vocabulary for text models) and, when the calibration rows
 * are too large for the data file, `<name>.calibration.json`. The one reader of these files for the CLI and the tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QModel } from '../engine/ir.js';
import type { CalibrationProgress } from './calibrate.js';
import { importOnnx } from './import.js';

/** models/ at the repository root. */
export const MODELS_DIR = join(import.meta.dirname, '..', '..', 'models');

/** A shipped model's data file, `<name>.data.json`. */
export interface ShippedData {
  input: string;
  shape: number[];
  x: number[][];
  /** Class labels, or per-position next-token ids for a text model. */
  y: number[] | number[][];
  calibration?: number[][];
  float_accuracy?: number;
  float_val_loss?: number;
  vocab?: string;
}

/** `<name>.data.json` of a shipped model. */
export function shippedData(name: string, modelsDir = MODELS_DIR): ShippedData {
  return JSON.parse(readFileSync(join(modelsDir, `${name}.data.json`), 'utf8')) as ShippedData;
}

/** The ONNX bytes of a shipped model. */
export function shippedOnnx(name: string, modelsDir = MODELS_DIR): Uint8Array {
  return readFileSync(join(modelsDir, `${name}.onnx`));
}

/** The calibration rows: the data file's, else `<name>.calibration.json`'s. */
export function shippedCalibration(name: string, modelsDir = MODELS_DIR, data: ShippedData = shippedData(name, modelsDir)): number[][] {
  if (data.calibration) return data.calibration;
  return (JSON.parse(readFileSync(join(modelsDir, `${name}.calibration.json`), 'utf8')) as { calibration: number[][] }).calibration;
}

/** Imports a shipped model (folded with its data file's input shape, calibrated on its calibration rows). */
export function importShipped(name: string, opts: { modelsDir?: string; onProgress?: CalibrationProgress } = {}): QModel {
  const dir = opts.modelsDir ?? MODELS_DIR;
  const data = shippedData(name, dir);
  return importOnnx(shippedOnnx(name, dir), {
    name,
    inputShape: data.shape,
    calibration: shippedCalibration(name, dir, data),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}
