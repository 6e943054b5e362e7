/**
 * text-mask.onnx (../shared/models): two inputs, int64 ids [n,40] and a float mask [n,40]; a
 * transformer encoder with torch's key padding mask (Equal → Reshape → Expand → Where(−inf) built
 * at run time) and masked mean pooling (ReduceSum, Div of two runtime tensors). Imported with
 * calibration rows holding both inputs back to back; checked: top-1 within 1 pt of float on the
 * 800 held-out rows, agreement with onnxruntime, identical traces across runs, and that the mask
 * really masks (padded ids do not change a single output integer).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, resolveInputs, quantizeInput, argmax } from '../../src/onnx/import.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { quantizationReport } from '../../src/onnx/report.js';
import { prepareModel, runModel, type PreparedModel } from '../../src/engine/run.js';
import { keccakReady, traceRootHex } from '../../src/commit/index.js';
import type { QModel } from '../../src/engine/ir.js';
import { ROOT } from './helpers.js';

const DIR = join(ROOT, '..', 'shared', 'models');
const have = existsSync(join(DIR, 'text-mask.onnx'));

describe.skipIf(!have)('text-mask: two inputs, run-time key padding mask, masked mean pooling', () => {
  let q: QModel;
  let p: PreparedModel;
  let d: { x: number[][]; y: number[]; calibration: number[][]; shapes: number[][]; float_accuracy: number };
  let bytes: Uint8Array;
  const run = (row: number[]) => runModel(p, [quantizeInput(q, row.slice(0, 40), 0), quantizeInput(q, row.slice(40), 1)]);

  beforeAll(async () => {
    await keccakReady;
    bytes = new Uint8Array(readFileSync(join(DIR, 'text-mask.onnx')));
    d = JSON.parse(readFileSync(join(DIR, 'text-mask.data.json'), 'utf8'));
    q = importOnnx(bytes, { name: 'text-mask', calibration: d.calibration, inputShapes: d.shapes });
    p = prepareModel(q);
  });

  it('imports with both inputs (ids as i32, mask as i8)', () => {
    expect(q.inputs.map((i) => [q.tensors[i].name, q.tensors[i].dtype, q.tensors[i].shape])).toEqual([
      ['ids', 'i32', [1, 40]],
      ['mask', 'i8', [1, 40]],
    ]);
  });

  it('top-1 within 1 point of float on the 800 held-out rows', () => {
    let ok = 0;
    d.x.forEach((row, i) => {
      if (argmax(run(row)[q.outputs[0]].data) === d.y[i]) ok++;
    });
    const acc = ok / d.x.length;
    console.log(`text-mask: quantized accuracy ${(acc * 100).toFixed(2)}% (float ${(d.float_accuracy * 100).toFixed(2)}%) over ${d.x.length} rows`);
    expect(acc).toBeGreaterThanOrEqual(d.float_accuracy - 0.01);
  });

  it('agrees with onnxruntime on ≥ 98% of 100 rows (import report)', async () => {
    const r = await quantizationReport(bytes, q, resolveInputs(loadOnnx(bytes), d.shapes), d.x.slice(0, 100));
    console.log(`text-mask vs onnxruntime: agreement ${(r.top1Agreement * 100).toFixed(1)}%, max |error| ${r.maxAbsError.toFixed(4)}`);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.98);
  });

  it('byte-identical traces across two runs, and padded ids change nothing', () => {
    const rows = d.x.slice(0, 20);
    for (const row of rows) expect(traceRootHex(run(row))).toBe(traceRootHex(run(row)));
    let checked = 0;
    for (const row of rows) {
      const padded = row.slice(40).map((m, i) => (m === 0 ? i : -1)).filter((i) => i >= 0);
      if (padded.length === 0) continue;
      const other = [...row];
      for (const i of padded) other[i] = (row[i] + 17) % 90 + 2;
      const a = run(row)[q.outputs[0]].data;
      const b = run(other)[q.outputs[0]].data;
      expect(Array.from(b)).toEqual(Array.from(a));
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('verity model import / run take both inputs from the CLI (rows of ids then mask)', () => {
    const out = `/tmp/verity-text-mask-${process.pid}.vqm`;
    const input = `/tmp/verity-text-mask-${process.pid}.json`;
    writeFileSync(input, JSON.stringify({ x: d.x.slice(0, 3) }));
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'model', ...args], { cwd: ROOT, encoding: 'utf8' });
    const imp = cli('import', join(DIR, 'text-mask.onnx'), '--calibration', join(DIR, 'text-mask.data.json'), '--out', out, '--no-report', '--json');
    expect(imp.status, imp.stderr).toBe(0);
    const run1 = cli('run', out, '--input', input, '--json');
    expect(run1.status, run1.stderr).toBe(0);
    const res = JSON.parse(run1.stdout.trim().split('\n').at(-1)!);
    d.x.slice(0, 3).forEach((row, i) => {
      expect(res.results[i].output).toEqual(Array.from(run(row)[q.outputs[0]].data));
      expect(res.results[i].traceRoot).toBe(traceRootHex(run(row)));
    });
  });
});
