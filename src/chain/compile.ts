/**
 * Compiles chosen Solidity files (e.g. test doubles outside contracts/, which scripts/compile.ts does not cover)
 * with solc-js standard JSON, offline, with the settings of foundry.toml. Imports resolve against the repo root
 * and node_modules (remapping @openzeppelin/). Results are cached on disk under cache/solc/<sha256>.json, keyed by
 * the content of every source in the import closure plus the compiler version and settings.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';
import type { Abi, Hex } from 'viem';
import { BaseError } from '../errors.js';

export class CompileError extends BaseError {
  override name = 'CompileError';
}

export interface CompiledContract {
  abi: Abi;
  bytecode: Hex;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const toPosix = (p: string): string => p.split(sep).join('/');

function readSource(path: string): string | undefined {
  for (const c of [join(repoRoot, path), join(repoRoot, 'node_modules', path)]) {
    if (existsSync(c)) return readFileSync(c, 'utf8');
  }
  return undefined;
}

/** Source unit name of an import written in `from` (relative imports resolve against the importing file). */
function resolveImport(from: string, spec: string): string {
  return spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(from), spec)) : spec;
}

/** All sources reachable from the entry files (by `import` statements), keyed by source unit name. */
function closure(entries: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const todo = [...entries];
  const importRe = /import\s+(?:[^'";]*?from\s+)?["']([^"']+)["']/g;
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (out.has(name)) continue;
    const src = readSource(name);
    if (src === undefined) throw new CompileError(`Solidity source not found: ${name}`, { details: `looked under ${repoRoot} and node_modules` });
    out.set(name, src);
    for (const m of src.matchAll(importRe)) todo.push(resolveImport(name, m[1]!));
  }
  return out;
}

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'prague',
  viaIR: false,
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

/**
 * Compiles `files` (repo-relative paths, e.g. 'contracts/dispute/DisputeGame.sol') and returns every contract with
 * bytecode or ABI, keyed by contract name (later files win on a name clash).
 */
export function compileContracts(files: readonly string[]): Record<string, CompiledContract> {
  const entries = files.map((f) => toPosix(relative(repoRoot, resolve(repoRoot, f))));
  const sources = closure(entries);
  const h = createHash('sha256');
  h.update(solc.version());
  h.update(JSON.stringify(SETTINGS));
  for (const name of [...sources.keys()].sort()) h.update(name).update('\0').update(sources.get(name)!).update('\0');
  h.update(JSON.stringify(entries));
  const key = h.digest('hex');
  const cacheDir = join(repoRoot, 'cache', 'solc');
  const cacheFile = join(cacheDir, `${key}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, CompiledContract>;

  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(entries.map((e) => [e, { content: sources.get(e)! }])),
    settings: { ...SETTINGS, remappings: ['@openzeppelin/=@openzeppelin/'] },
  };
  const findImport = (path: string): { contents: string } | { error: string } => {
    const src = sources.get(path) ?? readSource(path);
    return src === undefined ? { error: `File not found: ${path}` } : { contents: src };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new CompileError('Solidity compilation failed.', { details: errors.map((e) => e.formattedMessage).join('\n').slice(0, 4000) });
  }
  const result: Record<string, CompiledContract> = {};
  for (const unit of Object.keys(output.contracts ?? {}).sort()) {
    for (const [name, c] of Object.entries(output.contracts![unit]!)) {
      result[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as Hex };
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(result));
  return result;
}
