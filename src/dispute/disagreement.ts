/**
 * Where two runs of the same model first disagree (docs/protocol.md §Dispute game): the tensor a challenger
 * disputes, the node that wrote it, and the first element / word of it that differs.
 */
import { elementSize, tensorBytes } from '../commit/index.js';
import type { QModel, Trace } from '../engine/ir.js';
import { BaseError } from '../errors.js';

export class DisagreementError extends BaseError {
  override name = 'DisagreementError';
}

export interface Disagreement {
  /** Trace id of the first tensor that differs (ids in order: inputs first, then node outputs). */
  tensorId: number;
  /** Node writing it (tensorId − numInputs), or null if it is a model input. */
  nodeIndex: number | null;
  /** First differing element (0 if dtype or shape differ). */
  elementIndex: number;
  /** Word (32-byte leaf) holding that element in traceA's layout. */
  wordIndex: number;
  /** dtype or shape differ (then every element is in dispute; the game's meta check decides). */
  metaDiffers: boolean;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The first tensor (by trace id) on which `traceA` and `traceB` — two traces of `model` — differ, and the first
 * differing element of it; null if they are identical. Pure; compares element bytes (docs/protocol.md "Element
 * bytes"), so it agrees with the tensorRoots the game compares.
 */
export function firstDisagreement(model: QModel, traceA: Trace, traceB: Trace): Disagreement | null {
  const count = model.tensors.length;
  const numInputs = model.inputs.length;
  if (traceA.length !== count || traceB.length !== count) {
    throw new DisagreementError('Traces do not match the model.', {
      details: `model has ${count} tensors, traceA ${traceA.length}, traceB ${traceB.length}`,
    });
  }
  for (let id = 0; id < count; id++) {
    const a = traceA[id];
    const b = traceB[id];
    if (!a || !b) throw new DisagreementError(`Trace tensor ${id} is missing.`);
    const nodeIndex = id < numInputs ? null : id - numInputs;
    if (a.dtype !== b.dtype || !sameShape(a.shape, b.shape)) {
      return { tensorId: id, nodeIndex, elementIndex: 0, wordIndex: 0, metaDiffers: true };
    }
    const ba = tensorBytes(a, `traceA tensor ${id}`);
    const bb = tensorBytes(b, `traceB tensor ${id}`);
    for (let i = 0; i < ba.length; i++) {
      if (ba[i] !== bb[i]) {
        const es = elementSize(a.dtype);
        const elementIndex = Math.floor(i / es);
        return { tensorId: id, nodeIndex, elementIndex, wordIndex: Math.floor((elementIndex * es) / 32), metaDiffers: false };
      }
    }
  }
  return null;
}
