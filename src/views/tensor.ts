/**
 * A tensor as JSON (the node's API, the page, the agents): dtype name, shape, the raw integers. One zod schema and
 * one pair of converters; the node validates with the schema, the page imports only the types and converters
 * (no zod in its bundle).
 */
import { z } from 'zod';
import { allocate, type DType, type TensorData } from '../engine/ir.js';

export const DTYPE_NAMES = ['i8', 'u8', 'i32'] as const satisfies readonly DType[];

/** A tensor as JSON; `minRank` 1 refuses scalars (what a request may carry), 0 accepts them (what the chain holds). */
export function tensorJsonSchema(minRank: 0 | 1 = 0) {
  return z.object({
    dtype: z.enum(DTYPE_NAMES),
    shape: z.array(z.number().int().positive()).min(minRank),
    data: z.array(z.number().int()),
  });
}

export interface TensorJson {
  dtype: DType;
  shape: number[];
  data: number[];
}

export function tensorToJson(t: TensorData): TensorJson {
  return { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data) };
}

export function tensorFromJson(j: TensorJson): TensorData {
  const data = allocate(j.dtype, j.data.length);
  (data as Int32Array).set(j.data);
  return { dtype: j.dtype, shape: [...j.shape], data };
}
