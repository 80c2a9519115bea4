import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CatalogSnapshotFile } from '../product.js';
import { CatalogIndexCache, type SnapshotSource, serveCatalogRequest } from './catalog-http.js';

/**
 * The catalog API on its own: a bare node:http server over one snapshot file, no database, no
 * framework, so it starts in a blink on any host that does not share the showroom's failure.
 * The file is read again when its content may have changed (SIGHUP, or `reload()`).
 */
export async function readSnapshotFile(path: string): Promise<CatalogSnapshotFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read catalog snapshot ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const file = parsed as Partial<CatalogSnapshotFile> | null;
  const problem =
    file === null || typeof file !== 'object'
      ? 'not a JSON object'
      : file.version !== 1
        ? `version must be 1 (found ${JSON.stringify(file.version)})`
        : typeof file.id !== 'string'
          ? 'id must be a string'
          : !Array.isArray(file.products)
            ? 'products must be an array'
            : !Array.isArray(file.categories)
              ? 'categories must be an array'
              : file.products.findIndex((p) => typeof p?.sku !== 'string' || typeof p?.name !== 'string') >= 0
                ? `products[${file.products.findIndex((p) => typeof p?.sku !== 'string' || typeof p?.name !== 'string')}] needs a string sku and name`
                : null;
  if (problem) throw new Error(`catalog snapshot ${path}: ${problem}`);
  return file as CatalogSnapshotFile;
}

export interface StandaloneCatalogApi {
  url: string;
  server: Server;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function startCatalogApi(options: { snapshot: string; port: number; host?: string }): Promise<StandaloneCatalogApi> {
  let file = await readSnapshotFile(options.snapshot);
  const source: SnapshotSource = { latest: async () => file };
  const cache = new CatalogIndexCache(source);
  await cache.get(); // index before listening: the first request is as fast as the rest
  const server = createServer((req, res) => {
    serveCatalogRequest(cache, { method: req.method ?? 'GET', url: req.url ?? '/', ifNoneMatch: req.headers['if-none-match'] })
      .then((out) => {
        res.writeHead(out.status, out.headers);
        res.end(req.method === 'HEAD' ? undefined : out.body);
      })
      .catch(() => {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'internal', message: 'Unexpected error.' } }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`,
    server,
    async reload() {
      file = await readSnapshotFile(options.snapshot);
      await cache.get();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
