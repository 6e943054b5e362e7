/**
 * A tiny static server for the browser page (tests, the benchmark, local use): node:http on 127.0.0.1,
 * serving a directory (dist/web) plus optional in-memory files (model bytes a test computed).
 *
 *   npx tsx src/web/serve.ts [--root dist/web] [--port 0]
 *
 * GET and HEAD only; paths outside the root are refused. Responses carry COOP/COEP so the page is
 * cross-origin isolated (finer performance.now() for the benchmark).
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.vqm': 'application/octet-stream',
};

export interface ServeOptions {
  /** Directory served at / (default dist/web). */
  root?: string;
  /** Extra files by URL path ("/models/x.vqm"), served before the directory. */
  files?: Record<string, Uint8Array | string>;
  /** Port (default 0: any free port). */
  port?: number;
}

export interface StaticServer {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  port: number;
  server: Server;
  /** Adds or replaces an in-memory file. */
  put(path: string, body: Uint8Array | string): void;
  close(): Promise<void>;
}

export const DEFAULT_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'dist', 'web');

export async function serveStatic(opts: ServeOptions = {}): Promise<StaticServer> {
  const root = resolve(opts.root ?? DEFAULT_ROOT);
  const files = new Map<string, Uint8Array | string>(Object.entries(opts.files ?? {}));

  const server = createServer((req, res) => {
    void (async () => {
      const headers = {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cache-Control': 'no-store',
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
        return;
      }
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      } catch {
        res.writeHead(400, headers).end('bad path');
        return;
      }
      if (path.endsWith('/')) path += 'index.html';
      let body: Uint8Array | string | undefined = files.get(path);
      if (body === undefined) {
        const file = resolve(join(root, path));
        if (file !== root && !file.startsWith(root + sep)) {
          res.writeHead(403, headers).end('forbidden');
          return;
        }
        try {
          if ((await stat(file)).isFile()) body = await readFile(file);
        } catch {
          body = undefined;
        }
      }
      if (body === undefined) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
        return;
      }
      const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': String(len) });
      res.end(req.method === 'HEAD' ? undefined : body);
    })().catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500).end(e.message);
      else res.destroy(e);
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    port: addr.port,
    server,
    put: (p, b) => void files.set(p, b),
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const s = await serveStatic({ root: opt('--root'), port: opt('--port') ? Number(opt('--port')) : 0 });
  console.log(`serving ${resolve(opt('--root') ?? DEFAULT_ROOT)} at ${s.url}`);
  console.log(`  page:  ${s.url}index.html`);
  console.log(`  check: ${s.url}index.html?claim=claims/wine-mlp.json`);
  const stop = (): void => void s.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
