/**
 * Task input / output commitments (docs/protocol.md §Task market): inputHash = keccak256(0x06 ‖ uint32 n ‖ roots),
 * outputHash = keccak256(0x07 ‖ uint32 n ‖ roots), over the tensor roots of the inputs or the outputs. The market
 * stores them, the dispute game checks them, the page recomputes them: this is the one spelling.
 */
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { type TensorLike } from './bytes.js';
import { keccak256, PREFIX } from './keccak.js';
import { tensorRoot } from './tensor.js';

export type IoPrefix = typeof PREFIX.inputs | typeof PREFIX.outputs;

/** keccak256(prefix ‖ uint32 n ‖ roots), the digest the game checks; `roots` are 32-byte tensor roots. */
export function ioDigest(prefix: IoPrefix, roots: readonly (Hex | Uint8Array)[]): Hex {
  const out = new Uint8Array(5 + 32 * roots.length);
  out[0] = prefix;
  new DataView(out.buffer).setUint32(1, roots.length, false);
  roots.forEach((r, i) => out.set(typeof r === 'string' ? hexToBytes(r) : r, 5 + 32 * i));
  return bytesToHex(keccak256(out));
}

/** The task's input commitment over the tensor root of each input. */
export function inputHashOf(inputs: readonly TensorLike[]): Hex {
  return ioDigest(PREFIX.inputs, inputs.map((t, i) => tensorRoot(t, `input ${i}`)));
}

/** The result's output commitment over the tensor root of each output. */
export function outputHashOf(outputs: readonly TensorLike[]): Hex {
  return ioDigest(PREFIX.outputs, outputs.map((t, i) => tensorRoot(t, `output ${i}`)));
}
