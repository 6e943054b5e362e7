/**
 * The import report (src/onnx/report.ts, printed by `verity model import`): its top-1 agreement and
 * max/mean error against onnxruntime equal the same figures computed independently here, for the
 * library call and for the CLI's --json output.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MODELS_DIR, calibrationRows, modelData, onnxBytes, quantized } from './models.js';
import { ROOT } from './helpers.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { quantizeInput, dequantizeOutput, resolveInputs } from '../../src/onnx/import.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { quantizationReport } from '../../src/onnx/report.js';

/** tiny-gpt: 16 rows × 32 positions is plenty (and keeps the test short). */
const rowsOf = (name: 'wine-mlp' | 'tiny-gpt') => (name === 'tiny-gpt' ? calibrationRows(name).slice(0, 16) : calibrationRows(name));

/** Independent computation: one ORT session, argmax by hand, errors by hand. */
async function independent(name: 'wine-mlp' | 'tiny-gpt') {
  const q = quantized(name);
  const p = prepareModel(q);
  const rows = rowsOf(name);
  const shape = modelData(name).shape;
  const s = await ort.InferenceSession.create(join(MODELS_DIR, `${name}.onnx`));
  const V = q.tensors[q.outputs[0]].shape.at(-1)!;
  let agree = 0;
  let preds = 0;
  let max = 0;
  let sum = 0;
  let n = 0;
  for (const row of rows) {
    const feed =
      name === 'tiny-gpt'
        ? new ort.Tensor('int64', BigInt64Array.from(row.map((v) => BigInt(v))), [1, ...shape])
        : new ort.Tensor('float32', Float32Array.from(row), [1, ...shape]);
    const ref = (await s.run({ x: feed })).logits.data as Float32Array;
    const got = dequantizeOutput(q, runModel(p, [quantizeInput(q, row)])[q.outputs[0]]);
    for (let t = 0; t < got.length / V; t++) {
      let a = t * V;
      let b = t * V;
      for (let k = t * V; k < (t + 1) * V; k++) {
        if (got[k] > got[a]) a = k;
        if (ref[k] > ref[b]) b = k;
      }
      preds++;
      if (a === b) agree++;
    }
    for (let k = 0; k < got.length; k++) {
      const d = Math.abs(got[k] - ref[k]);
      max = Math.max(max, d);
      sum += d;
      n++;
    }
  }
  return { agreement: agree / preds, preds, max, mean: sum / n };
}

describe('import report against onnxruntime', () => {
  it.each(['wine-mlp', 'tiny-gpt'] as const)('%s: agreement, max and mean error equal an independent computation', async (name) => {
    const bytes = onnxBytes(name);
    const r = await quantizationReport(bytes, quantized(name), resolveInputs(loadOnnx(bytes), [modelData(name).shape]), rowsOf(name));
    const ind = await independent(name);
    console.log(`${name}: report agreement ${r.top1Agreement}, independent ${ind.agreement} over ${ind.preds}`);
    expect(r.predictions).toBe(ind.preds);
    expect(r.top1Agreement).toBe(ind.agreement);
    expect(r.maxAbsError).toBeCloseTo(ind.max, 12);
    expect(r.meanAbsError).toBeCloseTo(ind.mean, 12);
    expect(r.top1Agreement).toBeGreaterThan(0.9);
  });

  it('the CLI prints the same figures (--json)', async () => {
    const out = join('/tmp', `verity-report-${process.pid}.vqm`);
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'model', 'import', join(MODELS_DIR, 'wine-mlp.onnx'), '--calibration', join(MODELS_DIR, 'wine-mlp.data.json'), '--out', out, '--json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(res.status, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
    const ind = await independent('wine-mlp');
    expect(summary.report.top1Agreement).toBe(ind.agreement);
    expect(summary.report.maxAbsError).toBeCloseTo(ind.max, 12);
  });
});
