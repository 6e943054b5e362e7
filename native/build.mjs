#!/usr/bin/env node
/**
 * Builds the optional native kernels (native/verity_native.c) with node-gyp, from source, offline:
 * the Node headers come from `nodedir` (npm config / npm_config_nodedir, else /usr when
 * /usr/include/node/node_api.h exists — the same place better-sqlite3's build finds them here), so
 * node-gyp never downloads anything. Run by the root package's `install` script; never fails the
 * install: on any error it prints one line and exits 0, and the engine uses its WebAssembly / JS
 * paths instead (src/engine/native.ts). VERITY_NATIVE=0 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const say = (s) => process.stdout.write(`verity native kernels: ${s}\n`);
if (process.env.VERITY_NATIVE === '0') {
  say('skipped (VERITY_NATIVE=0); the engine uses its WebAssembly/JS kernels');
  process.exit(0);
}
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : '');
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((p) => p && existsSync(p));
if (candidates.length === 0) {
  say('not built (node-gyp not found); the engine uses its WebAssembly/JS kernels');
  process.exit(0);
}
if (!nodedir) {
  say('not built (no local Node headers: set npm config nodedir); the engine uses its WebAssembly/JS kernels');
  process.exit(0);
}
const r = spawnSync(process.execPath, [candidates[0], 'rebuild', `--nodedir=${nodedir}`], { cwd: here, encoding: 'utf8' });
if (r.status === 0 && existsSync(join(here, 'build', 'Release', 'verity_native.node'))) {
  say('built native/build/Release/verity_native.node');
} else {
  const err = `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().split('\n').slice(-3).join(' | ');
  say(`build failed (${err || `exit ${r.status}`}); the engine uses its WebAssembly/JS kernels`);
}
process.exit(0);
