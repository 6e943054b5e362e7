/**
 * Shared machinery for the op kernels: the prepare context (validation helpers that throw
 * EngineModelError naming the node), dtype ranges, broadcasting and index maps.
 *
 * Every op file exports `prepare(ctx): Kernel`. `prepare` validates the node once per model and
 * precomputes whatever the loops need; the returned kernel only runs the loops. A kernel reads its
 * input TensorData (already validated to the node's TensorInfo dtype/shape by the runner) and writes
 * the preallocated output; it does not allocate per element.
 */
import type { DType, IntArray, Param, QNode, TensorData, TensorInfo } from '../ir.js';
import { sizeOf } from '../ir.js';
import { EngineModelError } from '../errors.js';

/**
 * A kernel runs one item: `kernel(inputs, out)`. A kernel may also have a batch form
 * `kernel.batch(inputs, out, B)` where every data array holds B items back to back (item b at
 * b·size); it must give each item exactly what the single form gives it. runBatch uses the batch
 * form when present and otherwise runs the single form on per-item views.
 */
export type Kernel = ((inputs: readonly TensorData[], out: TensorData) => void) & { batch?: BatchKernel };
export type BatchKernel = (inputs: readonly TensorData[], out: TensorData, B: number) => void;

/** A kernel from its batch form (the single form is B = 1). */
export function batchKernel(f: BatchKernel): Kernel {
  const k: Kernel = (ins, out) => f(ins, out, 1);
  k.batch = f;
  return k;
}

/**
 * Marks a kernel whose loops only depend on data lengths (rows of the last axis, elementwise), so
 * it runs B stacked items as they are.
 */
export function rowwise(k: Kernel): Kernel {
  k.batch = (ins, out) => k(ins, out);
  return k;
}

export const DTYPE_MIN: Record<DType, number> = { i8: -128, u8: 0, i32: -2147483648 };
export const DTYPE_MAX: Record<DType, number> = { i8: 127, u8: 255, i32: 2147483647 };

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

export class NodeContext {
  constructor(
    readonly node: QNode,
    readonly index: number,
    /** TensorInfo of each entry of node.inputs. */
    readonly inputs: readonly TensorInfo[],
    readonly output: TensorInfo,
  ) {}

  /** Where this node is, for EngineInputError messages raised at run time. */
  get where(): string {
    return `node ${this.index} (${this.node.name}, ${this.node.op})`;
  }

  fail(what: string, hint?: string): never {
    throw new EngineModelError({
      nodeIndex: this.index,
      nodeName: this.node.name,
      op: this.node.op,
      what,
      hint,
    });
  }

  /** Exactly n tensor inputs. */
  arity(n: number | readonly number[]): void {
    const ok = typeof n === 'number' ? [n] : n;
    if (!ok.includes(this.node.inputs.length)) {
      this.fail(`expected ${ok.join(' or ')} tensor input(s), got ${this.node.inputs.length}`);
    }
  }

  inDtype(i: number, allowed: readonly DType[]): DType {
    const t = this.inputs[i];
    if (!allowed.includes(t.dtype)) {
      this.fail(`input ${i} (${t.name}) has dtype ${t.dtype}; expected ${allowed.join('|')}`);
    }
    return t.dtype;
  }

  outDtype(allowed: readonly DType[]): DType {
    const t = this.output;
    if (!allowed.includes(t.dtype)) {
      this.fail(`output (${t.name}) has dtype ${t.dtype}; expected ${allowed.join('|')}`);
    }
    return t.dtype;
  }

  outShape(expected: readonly number[]): void {
    if (!sameShape(expected, this.output.shape)) {
      this.fail(
        `output (${this.output.name}) has shape ${fmtShape(this.output.shape)}; the op gives ${fmtShape(expected)}`,
      );
    }
  }

  hasAttr(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.node.attrs, name);
  }

  /** An integer attr in [min, max]; `def` when absent (required when def is undefined). */
  int(name: string, min: number, max: number, def?: number): number {
    if (!this.hasAttr(name)) {
      if (def !== undefined) return def;
      this.fail(`missing attr '${name}'`);
    }
    const v = this.node.attrs[name];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.fail(`attr '${name}' must be an integer, got ${JSON.stringify(v)}`);
    }
    if (v < min || v > max) this.fail(`attr '${name}' = ${v} is outside [${min}, ${max}]`);
    return v;
  }

  /** An integer-array attr of length len (any length when len < 0), each in [min, max]. */
  ints(name: string, len: number, min: number, max: number, def?: number[]): number[] {
    if (!this.hasAttr(name)) {
      if (def !== undefined) return def;
      this.fail(`missing attr '${name}'`);
    }
    const v = this.node.attrs[name];
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'number' && Number.isInteger(e))) {
      this.fail(`attr '${name}' must be an integer array, got ${JSON.stringify(v)}`);
    }
    if (len >= 0 && v.length !== len) this.fail(`attr '${name}' must have ${len} entries, got ${v.length}`);
    for (const e of v) {
      if (e < min || e > max) this.fail(`attr '${name}' entry ${e} is outside [${min}, ${max}]`);
    }
    return v.slice();
  }

  hasParam(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.node.params, name);
  }

  /** A param with one of the dtypes and (when given) an exact shape or size. */
  param(
    name: string,
    dtypes: readonly DType[],
    opts: { shape?: readonly number[]; size?: number | readonly number[] } = {},
  ): Param {
    if (!this.hasParam(name)) this.fail(`missing param '${name}'`);
    const p = this.node.params[name];
    checkParamIntegrity(this, name, p);
    if (!dtypes.includes(p.dtype)) {
      this.fail(`param '${name}' has dtype ${p.dtype}; expected ${dtypes.join('|')}`);
    }
    if (opts.shape && !sameShape(opts.shape, p.shape)) {
      this.fail(`param '${name}' has shape ${fmtShape(p.shape)}; expected ${fmtShape(opts.shape)}`);
    }
    if (opts.size !== undefined) {
      const ok = typeof opts.size === 'number' ? [opts.size] : opts.size;
      if (!ok.includes(p.data.length)) {
        this.fail(`param '${name}' has ${p.data.length} elements; expected ${ok.join(' or ')}`);
      }
    }
    return p;
  }

  /** Checks that every value of a param lies in [min, max]. */
  paramRange(name: string, p: Param, min: number, max: number): void {
    const d = p.data;
    for (let i = 0; i < d.length; i++) {
      if (d[i] < min || d[i] > max) {
        this.fail(`param '${name}'[${i}] = ${d[i]} is outside [${min}, ${max}]`);
      }
    }
  }

  /** Rejects params the op does not define (catches typos such as 'weights'). */
  onlyParams(allowed: readonly string[]): void {
    for (const k of Object.keys(this.node.params)) {
      if (!allowed.includes(k)) this.fail(`unexpected param '${k}' (allowed: ${allowed.join(', ') || 'none'})`);
    }
  }
}

export function checkParamIntegrity(ctx: NodeContext, name: string, p: Param): void {
  if (!p || typeof p !== 'object') ctx.fail(`param '${name}' is not an object`);
  if (!isShape(p.shape)) ctx.fail(`param '${name}' has an invalid shape ${JSON.stringify(p.shape)}`);
  const ctor = p.dtype === 'i8' ? Int8Array : p.dtype === 'u8' ? Uint8Array : p.dtype === 'i32' ? Int32Array : null;
  if (!ctor) ctx.fail(`param '${name}' has an invalid dtype ${JSON.stringify(p.dtype)}`);
  if (!(p.data instanceof ctor)) ctx.fail(`param '${name}' data is not a ${ctor.name} (dtype ${p.dtype})`);
  if (p.data.length !== sizeOf(p.shape)) {
    ctx.fail(`param '${name}' has ${p.data.length} elements but shape ${fmtShape(p.shape)}`);
  }
}

export function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= 2 ** 31);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** numpy broadcast of two shapes, or null when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return null;
  }
  return out;
}

/**
 * For each element (row-major) of `outShape`, the flat index of the element of `inShape` it reads
 * under numpy broadcasting (inShape right-aligned, size-1 dims repeated).
 */
export function broadcastIndexMap(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = outShape.length;
  const total = sizeOf(outShape);
  const map = new Int32Array(total);
  const inStr = stridesOf(inShape);
  // stride of each output axis in the input (0 where broadcast).
  const st = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const j = i - (n - inShape.length);
    if (j >= 0 && inShape[j] !== 1) st[i] = inStr[j];
  }
  const idx = new Array<number>(n).fill(0);
  let off = 0;
  for (let e = 0; e < total; e++) {
    map[e] = off;
    for (let ax = n - 1; ax >= 0; ax--) {
      idx[ax]++;
      off += st[ax];
      if (idx[ax] < outShape[ax]) break;
      off -= st[ax] * idx[ax];
      idx[ax] = 0;
    }
  }
  return map;
}

/** Copies `src` into `dst` elementwise (same length). */
export function copyInto(dst: IntArray, src: IntArray): void {
  (dst as Int32Array).set(src as Int32Array);
}

/** Largest |q − z| over q in the dtype's range (the bound on a zero-point-shifted value). */
export function dev(dtype: DType, z: number): number {
  return Math.max(z - DTYPE_MIN[dtype], DTYPE_MAX[dtype] - z);
}
