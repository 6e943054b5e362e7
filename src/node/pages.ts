/**
 * The browser pages a node serves (/app, /dashboard), prebuilt by `npm run build:web` (scripts/build-web.ts) into
 * dist/web/: the node reads the files, it never bundles at run time. Read once per (root, page) and process.
 *
 *   <root>/index.html, app.js, style.css                      the run-and-check page (/app)
 *   <root>/dashboard/index.html, app.js, style.css            the network dashboard (/dashboard)
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseError } from '../errors.js';

export class PageMissingError extends BaseError {
  override name = 'PageMissingError';
}

export type PageName = 'app' | 'dashboard';

export interface PageAssets {
  html: string;
  js: string;
  css: string;
}

/** dist/web at the repository root: where `npm run build:web` writes. */
export const DEFAULT_WEB_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'dist', 'web');

const cache = new Map<string, Promise<PageAssets>>();

/** The prebuilt files of `page` under `root`; a missing build is a {@link PageMissingError} naming the directory. */
export function pageAssets(page: PageName, root: string = DEFAULT_WEB_ROOT): Promise<PageAssets> {
  const dir = page === 'app' ? resolve(root) : join(resolve(root), 'dashboard');
  const key = `${page}:${dir}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      try {
        const [html, js, css] = await Promise.all(['index.html', 'app.js', 'style.css'].map((f) => readFile(join(dir, f), 'utf8')));
        // The source map is not served.
        return { html: html!, js: js!.replace(/\n\/\/# sourceMappingURL=.*$/m, ''), css: css! };
      } catch (e) {
        throw new PageMissingError(`The ${page} page is not built: ${dir} has no index.html, app.js and style.css.`, {
          details: (e as Error).message,
          hint: 'Run `npm run build:web` (npm start does it first).',
        });
      }
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
