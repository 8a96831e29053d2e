/**
 * A static file server for the browser page (tests and `scripts/browser/serve.ts`): serves a
 * folder with the right MIME types, plus in-memory files, and — unless `isolated: false` — the
 * COOP/COEP headers that make the page cross-origin isolated, which WebAssembly threads
 * (SharedArrayBuffer) need. Listens on 127.0.0.1 only.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.kiln': 'application/octet-stream',
  '.ts': 'text/plain; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (`crossOriginIsolated === true`). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export interface StaticServer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Send COOP/COEP (default true). */
  readonly isolated?: boolean;
  /** Files served from memory, by path (`'model.kiln'`), before the folder's. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
  /** Port (default 0: any free one). */
  readonly port?: number;
}

/**
 * Serves `root` until `close()`.
 *
 * @example
 * ```ts
 * const server = await serveStatic(PAGE_DIR, { files: new Map([['model.kiln', bytes]]) });
 * console.log(server.url); // http://127.0.0.1:PORT/
 * await server.close();
 * ```
 */
export async function serveStatic(root: string, options: ServeOptions = {}): Promise<StaticServer> {
  const base = normalize(root + sep);
  const headers = options.isolated === false ? {} : ISOLATION_HEADERS;
  const server: Server = createServer((req, res) => {
    void (async () => {
      let path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname).slice(1);
      if (path === '' || path.endsWith('/')) path += 'index.html';
      const type = MIME_TYPES[extname(path)] ?? 'application/octet-stream';
      const file = join(base, path);
      let body = options.files?.get(path);
      if (!body && file.startsWith(base)) body = await readFile(file).catch(() => undefined);
      const head = req.method === 'HEAD';
      if (!body || (req.method !== 'GET' && !head)) {
        res.writeHead(body ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
        res.end(body ? 'GET or HEAD only\n' : `not found: /${path}\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.byteLength, 'Cache-Control': 'no-store', ...headers });
      res.end(head ? undefined : body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
