/**
 * `verity model run` on a model with two graph inputs (../shared/models/text-mask.onnx: ids + mask), as a user runs
 * it: the inputs by name ({"ids": [..], "mask": [..]}, one run or a list of runs) give the same trace roots as the
 * back-to-back rows and as the engine in-process; an unknown input name exits 1 naming it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccakReady, traceRootHex } from '../../src/commit/index.js';
import { encodeModel } from '../../src/engine/format.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import type { QModel } from '../../src/engine/ir.js';
import { importOnnx, quantizeInput } from '../../src/onnx/import.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SHARED = join(ROOT, '..', 'shared', 'models');
const have = existsSync(join(SHARED, 'text-mask.onnx'));

function verity(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe.skipIf(!have)('verity model run with two inputs', () => {
  let dir = '';
  let q: QModel;
  let rows: number[][];
  let vqm = '';

  beforeAll(async () => {
    await keccakReady;
    dir = mkdtempSync(join(tmpdir(), 'verity-cli-inputs-'));
    const d = JSON.parse(readFileSync(join(SHARED, 'text-mask.data.json'), 'utf8')) as { x: number[][]; calibration: number[][]; shapes: number[][] };
    q = importOnnx(new Uint8Array(readFileSync(join(SHARED, 'text-mask.onnx'))), { name: 'text-mask', calibration: d.calibration, inputShapes: d.shapes });
    rows = d.x.slice(0, 2);
    vqm = join(dir, 'text-mask.vqm');
    writeFileSync(vqm, encodeModel(q));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('inputs by name == back-to-back rows == the engine in-process', () => {
    const p = prepareModel(q);
    const expected = rows.map((r) => traceRootHex(runModel(p, [quantizeInput(q, r.slice(0, 40), 0), quantizeInput(q, r.slice(40), 1)])));
    const namedFile = join(dir, 'named.json');
    writeFileSync(namedFile, JSON.stringify(rows.map((r) => ({ ids: r.slice(0, 40), mask: r.slice(40) }))));
    const named = verity('model', 'run', vqm, '--input', namedFile, '--json');
    expect(named.code, named.err).toBe(0);
    expect((JSON.parse(named.out) as { results: { traceRoot: string }[] }).results.map((r) => r.traceRoot)).toEqual(expected);
    const one = verity('model', 'run', vqm, '--input', JSON.stringify({ mask: rows[1]!.slice(40), ids: rows[1]!.slice(0, 40) }), '--json');
    expect(one.code, one.err).toBe(0);
    expect((JSON.parse(one.out) as { results: { traceRoot: string }[] }).results.map((r) => r.traceRoot)).toEqual([expected[1]]);
    const flatFile = join(dir, 'flat.json');
    writeFileSync(flatFile, JSON.stringify(rows));
    const flat = verity('model', 'run', vqm, '--input', flatFile, '--json');
    expect(flat.code, flat.err).toBe(0);
    expect((JSON.parse(flat.out) as { results: { traceRoot: string }[] }).results.map((r) => r.traceRoot)).toEqual(expected);
  });

  it('an unknown input name exits 1 naming it', () => {
    const r = verity('model', 'run', vqm, '--input', JSON.stringify({ ids: rows[0]!.slice(0, 40), attention: rows[0]!.slice(40) }));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/attention/);
    expect(r.err).toMatch(/ids \[1, 40\], mask \[1, 40\]/);
  });
});
