/**
 * Errors thrown by the integer engine (src/engine/). All extend BaseError.
 *
 * - EngineInputError: a run's input (or an argument of a public engine helper) has the wrong
 *   shape, dtype or value range. Names the input, what was expected and what was got.
 * - EngineModelError: a QModel is malformed (bad node, attr, param, shape or dtype). Names the node
 *   index and name (when the problem is in a node) and what is wrong.
 * - FormatError: a serialized model file (VQM1) is malformed. Gives the byte offset and the reason.
 */
import { BaseError } from '../errors.js';

export interface EngineInputErrorParameters {
  /** Which input: a graph input name, `node 3 (Gather_1) indices`, or a helper argument name. */
  input: string;
  /** What was expected, e.g. `dtype i8, shape [1,13]`. */
  expected: string;
  /** What was got, e.g. `dtype u8, shape [13]`. */
  got: string;
  hint?: string;
  cause?: unknown;
}

export class EngineInputError extends BaseError {
  override name = 'EngineInputError';
  readonly input: string;
  readonly expected: string;
  readonly got: string;

  constructor(p: EngineInputErrorParameters) {
    super(`Invalid input ${p.input}`, {
      details: `${p.input}: expected ${p.expected}, got ${p.got}`,
      hint: p.hint,
      cause: p.cause,
    });
    this.input = p.input;
    this.expected = p.expected;
    this.got = p.got;
  }
}

export interface EngineModelErrorParameters {
  /** Index of the offending node in QModel.nodes (omitted for model-level problems). */
  nodeIndex?: number;
  /** Name of the offending node. */
  nodeName?: string;
  /** Op type of the offending node. */
  op?: string;
  /** What is wrong. */
  what: string;
  hint?: string;
  cause?: unknown;
}

export class EngineModelError extends BaseError {
  override name = 'EngineModelError';
  readonly nodeIndex: number | undefined;
  readonly nodeName: string | undefined;
  readonly what: string;

  constructor(p: EngineModelErrorParameters) {
    const where =
      p.nodeIndex === undefined
        ? 'model'
        : `node ${p.nodeIndex} (${p.nodeName ?? '?'}${p.op ? `, ${p.op}` : ''})`;
    super(`Malformed quantized model: ${where}`, {
      details: `${where}: ${p.what}`,
      hint: p.hint,
      cause: p.cause,
    });
    this.nodeIndex = p.nodeIndex;
    this.nodeName = p.nodeName;
    this.what = p.what;
  }
}

export interface FormatErrorParameters {
  /** Byte offset in the file where the problem was found. */
  offset: number;
  reason: string;
  hint?: string;
  cause?: unknown;
}

export class FormatError extends BaseError {
  override name = 'FormatError';
  readonly offset: number;
  readonly reason: string;

  constructor(p: FormatErrorParameters) {
    super(`Bad serialized model at byte ${p.offset}`, {
      details: `offset ${p.offset}: ${p.reason}`,
      hint: p.hint,
      cause: p.cause,
    });
    this.offset = p.offset;
    this.reason = p.reason;
  }
}
