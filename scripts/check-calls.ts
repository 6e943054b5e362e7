/**
 * Fails (exit 1, naming file:line) when src/ spells a protocol call outside the typed layer (src/chain/call.ts):
 *
 *   - `as never`: a cast that switches the ABI's type checking off;
 *   - `functionName: string`: an untyped function name (a call built from a string, checked by nothing).
 *
 * Generated artifacts (src/chain/artifacts/) are skipped. `npm test` runs this (npm run test:static).
 *
 *   npx tsx scripts/check-calls.ts [dir]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');
const RULES: { what: string; re: RegExp }[] = [
  { what: '`as never` switches the ABI type checking off; build the call with src/chain/call.ts', re: /\bas\s+never\b/ },
  { what: 'untyped `functionName: string`; take `fn extends WriteName<abi>` (src/chain/call.ts)', re: /\bfunctionName\??\s*:\s*string\b/ },
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p.split(sep).join('/').endsWith('src/chain/artifacts')) continue;
      out.push(...files(p));
    } else if (/\.(ts|tsx|mts|cts)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every violation under `dir`, as `file:line: what`. */
export function checkCalls(dir = join(ROOT, 'src')): string[] {
  const found: string[] = [];
  for (const f of files(dir)) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const r of RULES) if (r.re.test(line)) found.push(`${relative(ROOT, f).split(sep).join('/')}:${i + 1}: ${r.what}\n    ${line.trim()}`);
      });
  }
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ? resolve(process.argv[2]) : undefined;
  const found = checkCalls(dir);
  if (found.length > 0) {
    process.stderr.write(`${found.length} untyped protocol call spelling(s):\n${found.join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`typed calls: no \`as never\`, no untyped functionName in ${relative(process.cwd(), dir ?? join(ROOT, 'src')) || '.'}\n`);
}
