/** Rewrites the op-code constants in contracts/verifier/VerifierTypes.sol from OP_TYPES (src/verifier/opcodes.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withOpcodes } from '../src/verifier/opcodes.js';

const path = join(import.meta.dirname, '..', 'contracts', 'verifier', 'VerifierTypes.sol');
const before = readFileSync(path, 'utf8');
const after = withOpcodes(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'op codes up to date' : `wrote ${path}`);
