/** `verity model import|run|info`: the engine from the command line. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { importOnnx, quantizeInput, dequantizeOutput, argmax, resolveInputs } from '../onnx/import.js';
import { loadOnnx } from '../onnx/load.js';
import { quantizationReport, formatReport } from '../onnx/report.js';
import { checkOnnx, type CheckReport } from '../onnx/check.js';
import { quantizeInputs } from '../onnx/inputs.js';
import { encodeModel, decodeModel } from '../engine/format.js';
import { prepareModel, runModel } from '../engine/run.js';
import { progressBar } from './progress.js';
import { BaseError } from '../errors.js';
import { keccakReady, traceRootHex, modelRootHex } from '../commit/index.js';

export class CliInputError extends BaseError {
  override name = 'CliInputError';
}

const calibrationFile = z.object({
  shape: z.array(z.number().int().positive()).optional(),
  shapes: z.array(z.array(z.number().int().positive())).optional(),
  calibration: z.array(z.array(z.number())).optional(),
  x: z.array(z.array(z.number())).optional(),
});

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliInputError(`Cannot read ${what}`, { details: `${path}: ${(e as Error).message}` });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliInputError(`${what} is not valid JSON`, { details: `${path}: ${(e as Error).message}` });
  }
}

/** Rows from a JSON value: [..numbers..] is one row, [[..], [..]] many, {x: [[..]]} a data file. */
export function rowsFrom(v: unknown, where: string): number[][] {
  const parsed = z
    .union([z.array(z.number()), z.array(z.array(z.number())), z.object({ x: z.array(z.array(z.number())) }), z.object({ input: z.array(z.number()) })])
    .safeParse(v);
  if (!parsed.success) {
    throw new CliInputError('Input must be a row of numbers, a list of rows, or {"x": rows}', {
      details: `${where}: ${parsed.error.issues[0]?.message ?? 'unrecognized'} at ${parsed.error.issues[0]?.path.join('.') || 'top level'}`,
    });
  }
  const d = parsed.data;
  if (Array.isArray(d)) return d.length > 0 && Array.isArray(d[0]) ? (d as number[][]) : [d as number[]];
  if ('x' in d) return d.x;
  return [d.input];
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('import, inspect and run quantized models');

  model
    .command('check <onnx>')
    .description('list every node of an ONNX model that will not import, with the nearest supported rewrite')
    .option('--calibration <json>', 'calibration rows (as for import); synthetic rows when absent')
    .option('--shape <dims>', 'non-batch input dims, comma-separated; several inputs separated by ";"')
    .option('--json', 'print the report as JSON')
    .action((onnxPath: string, o: { calibration?: string; shape?: string; json?: boolean }) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(onnxPath);
      } catch (e) {
        throw new CliInputError('Cannot read the ONNX file', { details: `${onnxPath}: ${(e as Error).message}` });
      }
      const cal = o.calibration ? calibrationOf(o.calibration) : undefined;
      const shapes = parseShapes(o.shape) ?? cal?.shapes;
      const r = checkOnnx(bytes, { inputShapes: shapes, calibration: cal?.rows }, onnxPath);
      if (o.json) console.log(JSON.stringify(r));
      else console.log(formatCheck(onnxPath, r));
      if (r.issues.length > 0) process.exitCode = 1;
    });

  model
    .command('import <onnx>')
    .description('quantize an ONNX model with calibration data into a Verity model file')
    .requiredOption('--calibration <json>', 'JSON with "calibration" (or "x") rows and optionally "shape" (or "shapes" for several inputs)')
    .requiredOption('--out <file>', 'where to write the quantized model (.vqm)')
    .option('--name <name>', 'model name (default: the file name)')
    .option('--shape <dims>', 'non-batch input dims, comma-separated; several inputs separated by ";" (default: from the calibration file or the model)')
    .option('--no-report', 'skip the quantization-error report against onnxruntime')
    .option('--json', 'print a JSON summary')
    .action(async (onnxPath: string, o: { calibration: string; out: string; name?: string; shape?: string; report: boolean; json?: boolean }) => {
      const cal = calibrationOf(o.calibration);
      const rows = cal.rows;
      const shapes = parseShapes(o.shape) ?? cal.shapes;
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(onnxPath);
      } catch (e) {
        throw new CliInputError('Cannot read the ONNX file', { details: `${onnxPath}: ${(e as Error).message}` });
      }
      const name = o.name ?? onnxPath.replace(/^.*\//, '').replace(/\.onnx$/, '');
      const started = Date.now();
      const q = importOnnx(bytes, { name, inputShapes: shapes, calibration: rows, onProgress: progressBar('calibrating') });
      const file = encodeModel(q);
      writeFileSync(o.out, file);
      const report = o.report ? await quantizationReport(bytes, q, resolveInputs(loadOnnx(bytes, onnxPath), shapes), rows) : undefined;
      const summary = {
        name,
        out: o.out,
        bytes: file.length,
        nodes: q.nodes.length,
        tensors: q.tensors.length,
        inputs: q.inputs.map((id) => ({ name: q.tensors[id].name, dtype: q.tensors[id].dtype, shape: q.tensors[id].shape })),
        ops: [...new Set(q.nodes.map((n) => n.op))],
        modelRoot: modelRootHex(q),
        seconds: (Date.now() - started) / 1000,
        report,
      };
      if (o.json) console.log(JSON.stringify(summary));
      else {
        console.log(`wrote ${o.out}: ${summary.nodes} integer ops (${summary.ops.join(', ')}), ${file.length} bytes`);
        console.log(`model root ${summary.modelRoot}`);
        if (report) console.log(formatReport(report));
      }
    });

  model
    .command('run <file>')
    .description('run a quantized model on input rows and print outputs and trace roots')
    .requiredOption('--input <json>', 'a JSON file (or inline JSON): one row, a list of rows, or {"x": rows}; several inputs back to back in a row, or by name: {"ids": [..], "mask": [..]} (or a list of such)')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { input: string; json?: boolean }) => {
      await keccakReady;
      const q = decodeModel(readFileSync(file));
      const p = prepareModel(q);
      const raw = o.input.trim().startsWith('[') || o.input.trim().startsWith('{') ? safeParse(o.input) : readJson(o.input, 'input file');
      // Several inputs may also be given by name: {"ids": [..], "mask": [..]} is one run, a list of such objects many.
      const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
      const named = (v: unknown) => isObj(v) && !('x' in v) && !('input' in v);
      const byName = named(raw) ? [raw] : Array.isArray(raw) && raw.length > 0 && raw.every(named) ? (raw as unknown[]) : undefined;
      const rows: (number[] | unknown)[] = byName ?? rowsFrom(raw, o.input);
      const results = rows.map((row, r) => {
        let inputs;
        try {
          if (byName) inputs = quantizeInputs(q, row);
          else {
            // Several inputs: the row holds their values back to back, in graph-input order.
            const sizes = q.inputs.map((id) => q.tensors[id].shape.reduce((a, b) => a * b, 1));
            const total = sizes.reduce((a, b) => a + b, 0);
            if (q.inputs.length > 1 && (row as number[]).length !== total) {
              throw new CliInputError(`Row ${r} has ${(row as number[]).length} values; the inputs need ${total}`, {
                details: q.inputs.map((id, k) => `${q.tensors[id].name} [${q.tensors[id].shape.join(', ')}]: ${sizes[k]}`).join(', '),
              });
            }
            let at = 0;
            inputs = sizes.map((n, k) => quantizeInput(q, q.inputs.length > 1 ? (row as number[]).slice(at, (at += n)) : (row as number[]), k));
          }
        } catch (e) {
          if (e instanceof CliInputError) throw e;
          if (e instanceof BaseError) throw new CliInputError(`Row ${r}: ${e.shortMessage}`, { details: e.details, hint: e.hint });
          throw e;
        }
        const trace = runModel(p, inputs);
        const out = trace[q.outputs[0]];
        const values = Array.from(dequantizeOutput(q, out));
        return { output: Array.from(out.data), values, argmax: argmax(out.data), traceRoot: traceRootHex(trace) };
      });
      if (o.json) console.log(JSON.stringify({ model: q.name, modelRoot: modelRootHex(q), results }));
      else for (const [i, r] of results.entries()) console.log(`row ${i}: argmax ${r.argmax}  trace root ${r.traceRoot}`);
    });

  model
    .command('info <file>')
    .description('print a quantized model\'s graph')
    .option('--json', 'print JSON')
    .action((file: string, o: { json?: boolean }) => {
      const q = decodeModel(readFileSync(file));
      const nodes = q.nodes.map((n, i) => ({ i, op: n.op, name: n.name, inputs: n.inputs, output: n.output, shape: q.tensors[n.output].shape }));
      if (o.json) console.log(JSON.stringify({ name: q.name, modelRoot: modelRootHex(q), nodes }));
      else {
        console.log(`${q.name}: ${q.nodes.length} ops, model root ${modelRootHex(q)}`);
        for (const n of nodes) console.log(`${String(n.i).padStart(4)} ${n.op.padEnd(18)} [${n.shape}] ${n.name}`);
      }
    });
}

/** "13" → [[13]]; "40;40" → [[40], [40]]; "1,8,8" → [[1, 8, 8]]. */
export function parseShapes(spec: string | undefined): number[][] | undefined {
  if (spec === undefined) return undefined;
  const shapes = spec.split(';').map((part) => part.split(',').map((d) => Number(d.trim())));
  if (shapes.some((s) => s.some((d) => !Number.isSafeInteger(d) || d < 1))) {
    throw new CliInputError('--shape must be positive integers separated by commas (inputs by ";")', { details: `got "${spec}"` });
  }
  return shapes;
}

/** Calibration rows and optional shapes from a calibration file ("shape" for one input, "shapes" for several). */
function calibrationOf(path: string): { rows: number[][]; shapes?: number[][] } {
  const cal = calibrationFile.safeParse(readJson(path, 'calibration file'));
  if (!cal.success) {
    throw new CliInputError('Calibration file has the wrong form', { details: `${path}: ${cal.error.issues[0]?.message} at ${cal.error.issues[0]?.path.join('.')}` });
  }
  const rows = cal.data.calibration ?? cal.data.x;
  if (!rows) throw new CliInputError('Calibration file has no rows', { details: `${path} needs a "calibration" or "x" field` });
  const shapes = cal.data.shapes ?? (cal.data.shape ? [cal.data.shape] : undefined);
  return { rows, shapes };
}

export function formatCheck(path: string, r: CheckReport): string {
  const lines: string[] = [];
  const ins = r.inputs.map((i) => `${i.name} ${i.dtype}[${i.shape.join(',')}]`).join(', ');
  if (r.issues.length === 0) lines.push(`${path}: all ${r.nodes} nodes import (opset ${r.opset}; inputs ${ins})`);
  else {
    lines.push(`${path}: ${r.issues.length} node${r.issues.length === 1 ? '' : 's'} will not import (of ${r.nodes}; opset ${r.opset}${ins ? `; inputs ${ins}` : ''})`);
    for (const i of r.issues) {
      lines.push(`  ${i.op} "${i.node}" [${i.stage}]: ${i.reason}`);
      lines.push(`      rewrite: ${i.rewrite}`);
    }
  }
  if (!r.complete) lines.push('  (the check stopped early: fix these and run it again for the rest)');
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new CliInputError('Inline input is not valid JSON', { details: (e as Error).message });
  }
}
