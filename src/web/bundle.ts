/**
 * Bundles one of the browser pages with esbuild, in memory: the run-and-check page (app.ts, index.html,
 * style.css; served by a node at /app, src/node/claims.ts) or the network dashboard (dashboard.ts with
 * chart.js, dashboard.html, dashboard.css; served at /dashboard, src/node/dashboard.ts). Same origin as
 * the node's API, so the pages read it without CORS. scripts/build-web.ts writes the same bundles to
 * dist/web/, the fallback for a node without esbuild.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface PageBundle {
  html: string;
  js: string;
  css: string;
}

const PAGES = {
  app: { entry: 'app.ts', html: 'index.html', css: 'style.css' },
  dashboard: { entry: 'dashboard.ts', html: 'dashboard.html', css: 'dashboard.css' },
} as const;

export async function bundlePage(page: keyof typeof PAGES, opts: { minify?: boolean } = {}): Promise<PageBundle> {
  const p = PAGES[page];
  const r = await esbuild.build({
    entryPoints: [join(HERE, p.entry)],
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
  const [html, css] = await Promise.all([readFile(join(HERE, p.html), 'utf8'), readFile(join(HERE, p.css), 'utf8')]);
  return { html, js, css };
}
