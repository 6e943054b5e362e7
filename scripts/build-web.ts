/**
 * Builds the browser page: bundles src/web/app.ts (the same engine, commitment and input-quantization
 * source the node runs) with esbuild and copies index.html and style.css next to it.
 *
 *   npm run build:web                  # → dist/web/ with the shipped models as .vqm and a sample claim each
 *   npm run build:web -- --no-models   # only the page
 *   npm run build:web -- --out <dir>
 *
 * With models: dist/web/models/<name>.vqm, models/index.json ({name, file, modelRoot, example}[]) and
 * claims/<name>.json ({model, modelRoot, input, traceRoot}, computed in Node) so the page can be opened as
 * index.html?claim=claims/wine-mlp.json to check a committed result.
 *
 * A node serves this page at /app (src/node/claims.ts reads it from dist/web with src/node/pages.ts), where
 * ?task=<id> checks a committed task read from the chain.
 *
 * Also writes dist/web/dashboard/ (index.html, app.js with chart.js, style.css): the network dashboard a node serves
 * at /dashboard. The node never bundles: esbuild is a build-time tool (`npm start` runs this first).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB_SRC = join(ROOT, 'src', 'web');
export const DEFAULT_OUT = join(ROOT, 'dist', 'web');
export const SHIPPED = ['wine-mlp', 'digits-convnet', 'tiny-gpt'] as const;

export class WebBuildError extends Error {
  override name = 'WebBuildError';
}

export interface BuildOptions {
  outdir?: string;
  /** Write the shipped models, their index and sample claims (default true). */
  models?: boolean;
  minify?: boolean;
}

export interface BuildResult {
  outdir: string;
  /** app.js size in bytes. */
  bytes: number;
  /** dashboard/app.js size in bytes. */
  dashboardBytes: number;
  /** Source files in the bundle, relative to the repo root. */
  inputs: string[];
}

export interface PageBundle {
  html: string;
  js: string;
  css: string;
}

const PAGES = {
  app: { entry: 'app.ts', html: 'index.html', css: 'style.css' },
  dashboard: { entry: 'dashboard.ts', html: 'dashboard.html', css: 'dashboard.css' },
} as const;

/** What every page bundle shares: an ES module for the browsers the page supports, quiet, no license comments. */
const BROWSER = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox111', 'safari16.4'],
  legalComments: 'none',
  logLevel: 'silent',
} as const satisfies esbuild.BuildOptions;

/** Bundles one page of src/web in memory: its script (with what it imports), its html and css. */
export async function bundlePage(page: keyof typeof PAGES, opts: { minify?: boolean } = {}): Promise<PageBundle> {
  const p = PAGES[page];
  const r = await esbuild.build({ ...BROWSER, entryPoints: [join(WEB_SRC, p.entry)], write: false, minify: opts.minify ?? true, outfile: 'app.js' });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  return { html: readFileSync(join(WEB_SRC, p.html), 'utf8'), js, css: readFileSync(join(WEB_SRC, p.css), 'utf8') };
}

/** esbuild's message for a Node built-in in the browser bundle, with the importing file and line. */
function describe(m: esbuild.Message): string {
  const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.location.lineText.trim()}` : '(no location)';
  return `${m.text}\n    at ${at}${m.notes.length ? '\n    ' + m.notes.map((n) => n.text).join('\n    ') : ''}`;
}

/** Bundles the page into `outdir` (cleaned first). Throws WebBuildError naming each offending import. */
export async function buildWeb(opts: BuildOptions = {}): Promise<BuildResult> {
  const outdir = resolve(opts.outdir ?? DEFAULT_OUT);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  let result: esbuild.BuildResult<{ metafile: true }>;
  try {
    result = await esbuild.build({
      ...BROWSER,
      entryPoints: [join(WEB_SRC, 'app.ts')],
      outfile: join(outdir, 'app.js'),
      minify: opts.minify ?? true,
      sourcemap: 'linked',
      metafile: true,
    });
  } catch (e) {
    const errors = (e as esbuild.BuildFailure).errors;
    if (!errors) throw e;
    throw new WebBuildError(`The browser bundle failed (${errors.length} error(s)):\n  ${errors.map(describe).join('\n  ')}`);
  }
  for (const f of ['index.html', 'style.css']) copyFileSync(join(WEB_SRC, f), join(outdir, f));
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(ROOT, resolve(ROOT, p)));
  const bytes = readFileSync(join(outdir, 'app.js')).length;
  const dash = await bundlePage('dashboard', { minify: opts.minify ?? true });
  mkdirSync(join(outdir, 'dashboard'), { recursive: true });
  writeFileSync(join(outdir, 'dashboard', 'index.html'), dash.html);
  writeFileSync(join(outdir, 'dashboard', 'app.js'), dash.js);
  writeFileSync(join(outdir, 'dashboard', 'style.css'), dash.css);
  if (opts.models ?? true) await writeModels(outdir);
  return { outdir, bytes, dashboardBytes: dash.js.length, inputs };
}

/** The shipped models as .vqm, their index, and one sample claim each (computed in Node). */
async function writeModels(outdir: string): Promise<void> {
  // Imported here so a page-only build does not load the ONNX importer.
  const { importOnnx, quantizeInput } = await import('../src/onnx/import.js');
  const { encodeModel, prepareModel, runModel } = await import('../src/engine/index.js');
  const { keccakReady, modelRootHex, traceRootHex } = await import('../src/commit/index.js');
  await keccakReady;
  mkdirSync(join(outdir, 'models'), { recursive: true });
  mkdirSync(join(outdir, 'claims'), { recursive: true });
  const index = [];
  for (const name of SHIPPED) {
    const dir = join(ROOT, 'models');
    const data = JSON.parse(readFileSync(join(dir, `${name}.data.json`), 'utf8')) as { shape: number[]; x: number[][]; calibration?: number[][] };
    const calibration =
      data.calibration ?? (JSON.parse(readFileSync(join(dir, `${name}.calibration.json`), 'utf8')) as { calibration: number[][] }).calibration;
    const q = importOnnx(readFileSync(join(dir, `${name}.onnx`)), { name, inputShape: data.shape, calibration });
    const file = `models/${name}.vqm`;
    writeFileSync(join(outdir, file), encodeModel(q));
    const example = data.x[0];
    const modelRoot = modelRootHex(q);
    const traceRoot = traceRootHex(runModel(prepareModel(q), [quantizeInput(q, example)]));
    index.push({ name, file, modelRoot, example });
    writeFileSync(join(outdir, 'claims', `${name}.json`), JSON.stringify({ model: file, modelRoot, input: example, traceRoot }, null, 2) + '\n');
  }
  writeFileSync(join(outdir, 'models', 'index.json'), JSON.stringify(index, null, 2) + '\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
  const t0 = performance.now();
  const r = await buildWeb({ outdir: out, models: !args.includes('--no-models') });
  const own = r.inputs.filter((p) => p.startsWith('src/'));
  console.log(`dist: ${relative(process.cwd(), r.outdir) || '.'}  app.js ${(r.bytes / 1024).toFixed(1)} KiB  (${own.length} source files, ${r.inputs.length - own.length} from node_modules)  ${(performance.now() - t0).toFixed(0)} ms`);
  console.log(`dashboard: dashboard/app.js ${(r.dashboardBytes / 1024).toFixed(1)} KiB (chart.js bundled; a node serves it at /dashboard)`);
  console.log(`serve: npx tsx src/web/serve.ts --root ${relative(process.cwd(), r.outdir) || '.'}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: Error) => {
    console.error(e instanceof WebBuildError ? e.message : e);
    process.exit(1);
  });
}
