/**
 * Bundles the network dashboard (src/web/dashboard.ts with chart.js, plain DOM) with esbuild, in memory. The node's
 * API serves the result at /dashboard (src/node/dashboard.ts); scripts/build-web.ts writes it to dist/web/dashboard/
 * as the fallback for a node without esbuild.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface DashboardBundle {
  html: string;
  js: string;
  css: string;
}

export async function bundleDashboard(opts: { minify?: boolean } = {}): Promise<DashboardBundle> {
  const r = await esbuild.build({
    entryPoints: [join(HERE, 'dashboard.ts')],
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
  const [html, css] = await Promise.all([readFile(join(HERE, 'dashboard.html'), 'utf8'), readFile(join(HERE, 'dashboard.css'), 'utf8')]);
  return { html, js, css };
}
