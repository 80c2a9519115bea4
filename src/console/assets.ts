import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  name: string;
  url: string;
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const NAMES = ['console.css', 'console.js', 'favicon.svg'] as const;
export type AssetName = (typeof NAMES)[number];

/** Console assets, read once, served under content-hashed names so they can be cached forever. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  NAMES.map((name) => {
    const body = readFileSync(fileURLToPath(new URL(`./assets/${name}`, import.meta.url)));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const ext = extname(name);
    const url = `/console/assets/${name.slice(0, -ext.length)}.${hash}${ext}`;
    return [url, { name, url, body, type: TYPES[ext] ?? 'application/octet-stream' }];
  }),
);

export function assetUrl(name: AssetName): string {
  for (const asset of ASSETS.values()) if (asset.name === name) return asset.url;
  throw new Error(`unknown asset ${name}`);
}
