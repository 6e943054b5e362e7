/**
 * Task inputs and outputs as the market takes them (docs/protocol.md §Task market): tensors in calldata
 * (`IoCommitments.Tensor`: dtype code, stored shape, element bytes) and their digests
 * inputHash = keccak256(0x06 ‖ uint32 n ‖ tensorRoots), outputHash = keccak256(0x07 ‖ uint32 n ‖ tensorRoots) —
 * the commitments the dispute game checks, spelled once in src/commit/io.ts and re-exported here.
 */
export { inputHashOf, outputHashOf } from '../commit/index.js';
import { bytesToHex, type Hex } from 'viem';
import { DTYPE_CODES, tensorBytes } from '../commit/index.js';
import type { TensorData } from '../engine/ir.js';

/** Solidity `IoCommitments.Tensor`. */
export interface TensorArg {
  dtype: number;
  shape: number[];
  data: Hex;
}

/** A tensor in the market's calldata format. */
export function tensorArg(t: TensorData): TensorArg {
  return { dtype: DTYPE_CODES[t.dtype], shape: [...t.shape], data: bytesToHex(tensorBytes(t)) };
}
