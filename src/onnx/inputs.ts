/**
 * Float inputs of one run for a model with one or several graph inputs, in the forms the API, the CLI and the
 * browser page accept, quantized to the tensors a requester commits (one per graph input, in graph-input order):
 *
 *   - a flat row: the only input's values, or every input's values back to back in graph-input order;
 *   - a list of rows, one per graph input, in graph-input order (`[[ids…], [mask…]]`);
 *   - an object keyed by graph-input name (`{"ids": […], "mask": […]}`), every input named exactly once.
 *
 * Pure (no Node or ONNX dependency): the page uses it too.
 */
import type { QModel, TensorData } from '../engine/ir.js';
import { EngineInputError } from '../engine/errors.js';
import { quantizeInput } from './io.js';

/** The float inputs of one run, in any of the accepted forms. */
export type InputsSpec = readonly number[] | readonly (readonly number[])[] | Readonly<Record<string, readonly number[]>>;

function describe(model: QModel): string {
  return model.inputs.map((id) => `${model.tensors[id].name} [${model.tensors[id].shape.join(', ')}]`).join(', ');
}

function sizeOfInput(model: QModel, k: number): number {
  return model.tensors[model.inputs[k]].shape.reduce((a, b) => a * b, 1);
}

/** True when `v` is a list of rows (a list whose every entry is a list). */
function isRowList(v: unknown): v is readonly (readonly number[])[] {
  return Array.isArray(v) && v.length > 0 && v.every((r) => Array.isArray(r));
}

/** The float rows of one run, one per graph input in graph-input order (not yet quantized). */
export function inputRows(model: QModel, spec: unknown): number[][] {
  const n = model.inputs.length;
  const names = model.inputs.map((id) => model.tensors[id].name);
  if (isRowList(spec)) {
    if (spec.length !== n) {
      throw new EngineInputError({ input: 'list of inputs', expected: `${n} row${n === 1 ? '' : 's'}, one per graph input (${describe(model)})`, got: `${spec.length} rows` });
    }
    return spec.map((r) => [...r]);
  }
  if (Array.isArray(spec)) {
    const row = spec as number[];
    if (n === 1) return [[...row]];
    const sizes = names.map((_, k) => sizeOfInput(model, k));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (row.length !== total) {
      throw new EngineInputError({
        input: 'row',
        expected: `${total} values (the ${n} inputs back to back: ${describe(model)}), or one row per input, or an object keyed by input name`,
        got: `${row.length} values`,
      });
    }
    let at = 0;
    return sizes.map((s) => row.slice(at, (at += s)));
  }
  if (spec !== null && typeof spec === 'object') {
    const obj = spec as Record<string, unknown>;
    const extra = Object.keys(obj).filter((k) => !names.includes(k));
    if (extra.length > 0) throw new EngineInputError({ input: `"${extra[0]}"`, expected: `one of the graph inputs (${describe(model)})`, got: `an unknown input name` });
    return names.map((name) => {
      const r = obj[name];
      if (!Array.isArray(r)) throw new EngineInputError({ input: `"${name}"`, expected: 'a list of numbers', got: r === undefined ? 'nothing (missing)' : typeof r });
      return [...(r as number[])];
    });
  }
  throw new EngineInputError({ input: 'inputs', expected: 'a row, a list of rows (one per graph input) or an object keyed by input name', got: spec === null ? 'null' : typeof spec });
}

/** The committed input tensors of one run (one per graph input, in graph-input order). */
export function quantizeInputs(model: QModel, spec: unknown): TensorData[] {
  return inputRows(model, spec).map((row, k) => quantizeInput(model, row, k));
}
