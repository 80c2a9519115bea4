/**
 * A small static server for a published mirror folder (the demo, tests, or a quick look without
 * nginx): GET and HEAD, content types by extension, `index.html` for folders, the mirror's
 * 404.html for anything else, nothing outside the folder. Files are read per request, so a
 * publish (the folder's symlink switched) shows at once.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.pdf': 'application/pdf',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
};

async function resolveFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.split('/').includes('..')) return null;
  const base = await realpath(root).catch(() => null);
  if (base === null) return null;
  let candidate = join(base, decoded);
  const info = await stat(candidate).catch(() => null);
  if (info?.isDirectory()) candidate = join(candidate, 'index.html');
  else if (!info) return null;
  const real = await realpath(candidate).catch(() => null);
  // Bundles are symlinks into the store beside the folder: allow the folder's parent, no further.
  const parent = join(base, '..', '..');
  if (real === null || !(real.startsWith(base + sep) || real.startsWith(parent + sep))) return null;
  return (await stat(real).catch(() => null))?.isFile() ? real : null;
}

export function createMirrorServer(root: string): Server {
  return createServer((req, res) => {
    const send = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const path = new URL(req.url ?? '/', 'http://mirror').pathname;
      let file = await resolveFile(root, path);
      let status = 200;
      if (file === null) {
        file = await resolveFile(root, '/404.html');
        status = 404;
      }
      if (file === null) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
        return;
      }
      res.writeHead(status, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        // flags.json is read by the showroom's pages on another origin.
        ...(file.endsWith('flags.json') && { 'access-control-allow-origin': '*' }),
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    };
    send().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}
