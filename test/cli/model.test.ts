/**
 * `verity model import|run|info` as a user runs them: a real child process, real files.
 * Bad input (missing file, malformed JSON, wrong row length, unsupported op) exits 1 with a message
 * naming what was wrong, and writes no output file.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;

function verity(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'verity-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verity model', () => {
  it('imports with a progress bar, runs, and prints the same trace root as a second run', () => {
    const out = join(dir, 'wine.vqm');
    const imp = verity('model', 'import', 'models/wine-mlp.onnx', '--calibration', 'models/wine-mlp.data.json', '--out', out, '--json');
    expect(imp.code, imp.err).toBe(0);
    expect(imp.err).toMatch(/calibrating .*64\/64/);
    const summary = JSON.parse(imp.out) as { nodes: number; modelRoot: string };
    expect(summary.nodes).toBeGreaterThan(0);
    expect(summary.modelRoot).toMatch(/^0x[0-9a-f]{64}$/);

    const data = JSON.parse(readFileSync(join(ROOT, 'models/wine-mlp.data.json'), 'utf8')) as { x: number[][]; y: number[] };
    const input = join(dir, 'rows.json');
    writeFileSync(input, JSON.stringify({ x: data.x.slice(0, 3) }));
    const a = verity('model', 'run', out, '--input', input, '--json');
    const b = verity('model', 'run', out, '--input', input, '--json');
    expect(a.code, a.err).toBe(0);
    const ra = JSON.parse(a.out) as { modelRoot: string; results: { argmax: number; traceRoot: string }[] };
    const rb = JSON.parse(b.out) as typeof ra;
    expect(ra.modelRoot).toBe(summary.modelRoot);
    expect(ra.results.map((r) => r.traceRoot)).toEqual(rb.results.map((r) => r.traceRoot));
    expect(ra.results.map((r) => r.argmax)).toEqual(data.y.slice(0, 3));

    const info = verity('model', 'info', out);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/Linear/);
  });

  it('rejects a malformed ONNX file and writes nothing', () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, Buffer.from('this is not a protobuf at all, not even close'));
    const out = join(dir, 'bad.vqm');
    const r = verity('model', 'import', bad, '--calibration', 'models/wine-mlp.data.json', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error: /);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    expect(existsSync(out)).toBe(false);
  });

  it('rejects malformed calibration JSON naming the file', () => {
    const cal = join(dir, 'cal.json');
    writeFileSync(cal, '{"calibration": [[1, 2,');
    const r = verity('model', 'import', 'models/wine-mlp.onnx', '--calibration', cal, '--out', join(dir, 'x.vqm'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not valid JSON/);
    expect(r.err).toContain(cal);
  });

  it('rejects an input row of the wrong length naming the row and the sizes', () => {
    const out = join(dir, 'wine2.vqm');
    expect(verity('model', 'import', 'models/wine-mlp.onnx', '--calibration', 'models/wine-mlp.data.json', '--out', out).code).toBe(0);
    const r = verity('model', 'run', out, '--input', '[1, 2, 3]');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Row 0/);
    expect(r.err).toMatch(/13 values/);
  });

  it('rejects a calibration row of the wrong length', () => {
    const cal = join(dir, 'short.json');
    writeFileSync(cal, JSON.stringify({ shape: [13], calibration: [[1, 2, 3]] }));
    const r = verity('model', 'import', 'models/wine-mlp.onnx', '--calibration', cal, '--out', join(dir, 'y.vqm'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/row 0 has 3 values/);
  });
});
