/**
 * Typed errors of the ONNX importer. Every failure of loading, folding or float execution is one
 * of these, so callers (CLI, quantizer, tests) can tell a bad file from an unsupported model from
 * a bad input, and so a fuzzed file never escapes as a bare TypeError/RangeError.
 */
import { BaseError } from '../errors.js';
import { rewriteHint } from './support.js';

/** The bytes are not a decodable ModelProto (malformed or truncated protobuf). */
export class OnnxDecodeError extends BaseError {
  override name = 'OnnxDecodeError';
  readonly origin: string;
  readonly byteLength: number;
  /** The protobuf decoder's own message, e.g. "index out of range: 5547 + 10 > 5547". */
  readonly reason: string;

  constructor(p: { origin: string; byteLength: number; reason: string; cause?: unknown }) {
    super(`Could not decode ONNX model ${p.origin}: malformed or truncated protobuf`, {
      details: `${p.byteLength} bytes; protobuf decoder said: ${p.reason}`,
      hint: 'Check that the file is a complete binary .onnx ModelProto (not truncated by a download, not text format, not an external-data file).',
      cause: p.cause,
    });
    this.origin = p.origin;
    this.byteLength = p.byteLength;
    this.reason = p.reason;
  }
}

/** The file could not be read at all (missing, permissions). */
export class OnnxFileError extends BaseError {
  override name = 'OnnxFileError';
  readonly path: string;

  constructor(p: { path: string; reason: string; cause?: unknown }) {
    super(`Could not read ONNX file ${p.path}`, { details: p.reason, cause: p.cause });
    this.path = p.path;
  }
}

/** An op the importer does not implement (or implements only in a form the node does not use). */
export class OnnxUnsupportedOpError extends BaseError {
  override name = 'OnnxUnsupportedOpError';
  readonly opType: string;
  readonly nodeName: string;
  /** Index of the node in the graph it was found in (the loaded graph, or the folded graph). */
  readonly nodeIndex: number;
  readonly supported: readonly string[];
  /** Why this node is unsupported when the op type itself is known (e.g. "3-D Conv"). */
  readonly reason: string | undefined;
  /** The nearest rewrite that does import (src/onnx/support.ts). */
  readonly rewrite: string;

  constructor(p: { opType: string; nodeName: string; nodeIndex: number; supported: readonly string[]; reason?: string; rewrite?: string }) {
    const rewrite = p.rewrite ?? rewriteHint(p.opType);
    super(`Unsupported ONNX op ${p.opType} at node "${p.nodeName}" (#${p.nodeIndex})${p.reason ? `: ${p.reason}` : ''}`, {
      details: p.reason ? `${p.opType} node "${p.nodeName}": ${p.reason}` : `node #${p.nodeIndex} "${p.nodeName}" has op type ${p.opType}`,
      hint: `Nearest supported rewrite: ${rewrite}. Supported ops: ${p.supported.join(', ')}.`,
    });
    this.opType = p.opType;
    this.nodeName = p.nodeName;
    this.nodeIndex = p.nodeIndex;
    this.supported = p.supported;
    this.reason = p.reason;
    this.rewrite = rewrite;
  }
}

/** A node (or the graph output list, node "<graph output>") reads a tensor nothing defines. */
export class OnnxMissingTensorError extends BaseError {
  override name = 'OnnxMissingTensorError';
  readonly tensor: string;
  /** Name of the reading node, or "<graph output>" / "<feeds>". */
  readonly node: string;

  constructor(p: { tensor: string; node: string; details?: string; hint?: string }, short?: string) {
    super(short ?? `Missing tensor "${p.tensor}" read by node "${p.node}"`, {
      details: p.details ?? `"${p.tensor}" is not a graph input, an initializer, or the output of an earlier node`,
      hint: p.hint ?? 'The graph is inconsistent; re-export the model (and run onnx.checker on it).',
    });
    this.tensor = p.tensor;
    this.node = p.node;
  }
}

/**
 * A loaded graph reads a tensor that is neither a graph input nor a node output: in a valid ONNX
 * file the only other source is an initializer, so the initializer is what is missing. It is a
 * kind of missing tensor (catching OnnxMissingTensorError catches it too).
 */
export class OnnxMissingInitializerError extends OnnxMissingTensorError {
  override name = 'OnnxMissingInitializerError';

  constructor(p: { tensor: string; node: string }) {
    super(
      {
        ...p,
        details: `node "${p.node}" reads "${p.tensor}", which is not a graph input, not produced by any node, and has no initializer`,
        hint: 'The weights are missing from the file: re-export with the parameters embedded (not as external data).',
      },
      `Missing initializer "${p.tensor}" read by node "${p.node}"`,
    );
  }
}

/** A feed (or a requested input shape) does not match the graph input's dtype or shape. */
export class OnnxShapeError extends BaseError {
  override name = 'OnnxShapeError';
  readonly input: string;
  /** Human-readable, e.g. "float32[n,13]". */
  readonly expected: string;
  readonly got: string;

  constructor(p: { input: string; expected: string; got: string; hint?: string }) {
    super(`Wrong shape or dtype for input "${p.input}": expected ${p.expected}, got ${p.got}`, {
      details: `input "${p.input}": expected ${p.expected}, got ${p.got}`,
      hint: p.hint ?? 'Pass a tensor with the dtype and shape the graph declares (named dims may take any size).',
    });
    this.input = p.input;
    this.expected = p.expected;
    this.got = p.got;
  }
}

/** Anything else structurally wrong: cycles, missing graph, bad attribute, inconsistent shapes. */
export class OnnxGraphError extends BaseError {
  override name = 'OnnxGraphError';
  /** Node name, when one node is at fault. */
  readonly node: string | undefined;
  /** Attribute name, when one attribute is at fault. */
  readonly attribute: string | undefined;

  constructor(message: string, p: { node?: string; attribute?: string; details?: string; hint?: string; cause?: unknown } = {}) {
    const where = [p.node !== undefined ? `node "${p.node}"` : '', p.attribute !== undefined ? `attribute "${p.attribute}"` : '']
      .filter(Boolean)
      .join(', ');
    super(where ? `${message} (${where})` : message, { details: p.details, hint: p.hint, cause: p.cause });
    this.node = p.node;
    this.attribute = p.attribute;
  }
}
