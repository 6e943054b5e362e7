/**
 * Bundles the run-and-check page (src/web/app.ts: the same engine and commitments as the node) with esbuild, in
 * memory. The node's API serves the result at /app (src/node/claims.ts), same origin as its API, so the page reads
 * a committed task (GET /tasks/:id/claim) and the model bytes (GET /models/:root) without CORS.
 * scripts/build-web.ts writes the same page to dist/web/, the fallback for a node without esbuild.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface AppBundle {
  html: string;
  js: string;
  css: string;
}

export async function bundleApp(opts: { minify?: boolean } = {}): Promise<AppBundle> {
  const r = await esbuild.build({
    entryPoints: [join(HERE, 'app.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16.4'],
    minify: opts.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
    outfile: 'app.js',
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const [html, css] = await Promise.all([readFile(join(HERE, 'index.html'), 'utf8'), readFile(join(HERE, 'style.css'), 'utf8')]);
  return { html, js, css };
}
