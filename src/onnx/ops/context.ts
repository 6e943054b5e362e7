/**
 * What an op implementation gets besides its input tensors: its node (attributes, name for
 * errors), the opset, and the resource limits. Every allocation goes through `alloc` and every
 * loop of real work is charged with `work`, so a corrupt file claiming huge shapes fails with a
 * typed error instead of exhausting memory or hanging.
 */
import { OnnxGraphError, OnnxUnsupportedOpError } from '../errors.js';
import { attrFloat, attrInt, attrInts, attrString, type FNode } from '../graph.js';
import { checkShape, shapeStr, zeros, type DType, type FTensor } from '../tensor.js';

export interface ExecLimits {
  /** Largest tensor (elements) an op may create. */
  maxElements: number;
  /** Budget of elementary operations (multiply-adds, element visits) for one run. */
  maxWork: number;
}

// 2^34 operations is minutes of JavaScript: far above any model this project runs, low enough
// that a corrupt file cannot hang a process indefinitely.
export const DEFAULT_LIMITS: ExecLimits = { maxElements: 2 ** 28, maxWork: 2 ** 34 };

export type Inputs = readonly (FTensor | undefined)[];
/** Returns one entry per node output (undefined for optional outputs it does not produce). */
export type OpImpl = (ctx: OpCtx, inputs: Inputs) => (FTensor | undefined)[];

export class OpCtx {
  constructor(
    readonly node: FNode,
    readonly index: number,
    readonly opset: number,
    private readonly limits: ExecLimits,
    private readonly budget: { used: number },
    private readonly supported: readonly string[],
  ) {}

  /** A structural error located at this node. */
  fail(message: string, attribute?: string): never {
    throw new OnnxGraphError(`${this.node.op}: ${message}`, { node: this.node.name, attribute });
  }

  /** The op type is known but this use of it is not implemented. */
  unsupported(reason: string): never {
    throw new OnnxUnsupportedOpError({ opType: this.node.op, nodeName: this.node.name, nodeIndex: this.index, supported: this.supported, reason });
  }

  alloc(dtype: DType, shape: readonly number[]): FTensor {
    checkShape(shape, `output of ${this.node.op}`, this.limits.maxElements, this.node.name);
    this.work(shape.reduce((a, b) => a * b, 1));
    return zeros(dtype, shape);
  }

  work(n: number): void {
    this.budget.used += n;
    if (this.budget.used > this.limits.maxWork) {
      throw new OnnxGraphError(`Work budget of ${this.limits.maxWork} operations exceeded`, {
        node: this.node.name,
        hint: 'The model (or a corrupt shape in it) needs far more computation than allowed; raise limits.maxWork if it is genuine.',
      });
    }
  }

  /** Required input i. */
  in(inputs: Inputs, i: number): FTensor {
    const t = inputs[i];
    if (!t) this.fail(`input ${i} is required`);
    return t;
  }

  float32(inputs: Inputs, i: number): FTensor {
    const t = this.in(inputs, i);
    if (t.dtype !== 'float32') this.fail(`input ${i} must be float32, got ${t.dtype}`);
    return t;
  }

  /** An input holding a list of integers (shape, axes, starts...), as plain numbers. */
  intList(inputs: Inputs, i: number): number[] {
    const t = this.in(inputs, i);
    if (t.dtype === 'float32' || t.dtype === 'bool') this.fail(`input ${i} must be an integer tensor, got ${t.dtype}`);
    if (t.shape.length > 1) this.fail(`input ${i} must be 1-D, got shape ${shapeStr(t.shape)}`);
    return Array.from(t.data);
  }

  /** A scalar (or 1-element) input as a number. */
  scalarOf(inputs: Inputs, i: number): number {
    const t = this.in(inputs, i);
    if (t.data.length !== 1) this.fail(`input ${i} must be a scalar, got shape ${shapeStr(t.shape)}`);
    return t.data[0];
  }

  int(name: string, def?: number): number {
    return attrInt(this.node, name, def);
  }
  ints(name: string, def?: number[]): number[] {
    return attrInts(this.node, name, def);
  }
  float(name: string, def?: number): number {
    return attrFloat(this.node, name, def);
  }
  string(name: string, def?: string): string {
    return attrString(this.node, name, def);
  }

  /** Normalizes a possibly negative axis against a rank, failing when out of range. */
  axis(a: number, rank: number, attribute = 'axis'): number {
    if (!Number.isInteger(a) || a < -rank || a >= rank) this.fail(`axis ${a} out of range for rank ${rank}`, attribute);
    return a < 0 ? a + rank : a;
  }
}
