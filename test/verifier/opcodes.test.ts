/**
 * Op codes have one source (OP_TYPES in src/engine/ir.ts): the named constants in
 * contracts/verifier/VerifierTypes.sol are the generated block of src/verifier/opcodes.ts (run
 * `npx tsx scripts/gen-opcodes.ts` after appending an op), and no verifier contract compares an op
 * against a bare number.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OP_TYPES } from '../../src/engine/ir.js';
import { opcodesBlock, opConstName } from '../../src/verifier/opcodes.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'contracts', 'verifier');

function sols(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sols(p) : f.endsWith('.sol') ? [p] : [];
  });
}

describe('op codes', () => {
  it('VerifierTypes.sol holds the constants generated from OP_TYPES', () => {
    const src = readFileSync(join(DIR, 'VerifierTypes.sol'), 'utf8');
    expect(src, 'stale: run npx tsx scripts/gen-opcodes.ts').toContain(opcodesBlock());
    OP_TYPES.forEach((op, i) => expect(src).toContain(`uint8 constant ${opConstName(op)} = ${i};`));
    expect(new Set(OP_TYPES.map(opConstName)).size).toBe(OP_TYPES.length);
  });

  it('no verifier contract compares an op code with a bare number', () => {
    const bad = sols(DIR).flatMap((p) =>
      readFileSync(p, 'utf8')
        .split('\n')
        .map((line, i) => ({ line: line.trim(), at: `${p.slice(ROOT.length + 1)}:${i + 1}` }))
        .filter(({ line }) => /\bop\s*(==|!=|<=|>=|<|>)\s*\d/.test(line) || /\d\s*(==|!=|<=|>=|<|>)\s*op\b/.test(line)),
    );
    expect(bad).toEqual([]);
  });

  it('every op code is routed to a family by name', () => {
    const router = readFileSync(join(DIR, 'OneStepVerifier.sol'), 'utf8');
    const body = router.slice(router.indexOf('function familyOf'));
    for (const op of OP_TYPES) expect(body, op).toContain(opConstName(op));
  });
});
