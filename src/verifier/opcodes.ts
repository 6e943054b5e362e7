/**
 * Op codes from one source: a node header's `op` byte is the op's index in OP_TYPES
 * (src/engine/ir.ts). This module renders that table as named Solidity constants for
 * contracts/verifier/VerifierTypes.sol (between the generated-block markers), so the contracts
 * use OP_LINEAR, OP_ADD, … instead of positional numbers. `npx tsx scripts/gen-opcodes.ts`
 * rewrites the block; test/verifier/opcodes.test.ts fails when it is stale. New ops are appended
 * to OP_TYPES, never inserted (committed models' headers carry these codes).
 */
import { OP_TYPES, type OpType } from '../engine/ir.js';

export const OPCODES_BEGIN = '// <generated:op-codes> from OP_TYPES in src/engine/ir.ts by scripts/gen-opcodes.ts; do not edit';
export const OPCODES_END = '// </generated:op-codes>';

/** OP_LINEAR, OP_GLOBAL_AVERAGE_POOL, OP_MAT_MUL_INTEGER, OP_QLINEAR_CONV … */
export function opConstName(op: OpType): string {
  const snake = op
    .replace(/^QLinear/, 'Qlinear')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();
  return `OP_${snake}`;
}

export function opcodesBlock(): string {
  const lines = OP_TYPES.map((op, i) => `uint8 constant ${opConstName(op)} = ${i};`);
  return [OPCODES_BEGIN, ...lines, `// Number of op codes; a code >= OP_COUNT is unknown.`, `uint8 constant OP_COUNT = ${OP_TYPES.length};`, OPCODES_END].join('\n');
}

/** `source` (VerifierTypes.sol) with its generated block replaced by the current one. */
export function withOpcodes(source: string): string {
  const a = source.indexOf(OPCODES_BEGIN);
  const b = source.indexOf(OPCODES_END);
  if (a < 0 || b < a) throw new Error('VerifierTypes.sol has no generated op-code block markers');
  return source.slice(0, a) + opcodesBlock() + source.slice(b + OPCODES_END.length);
}
