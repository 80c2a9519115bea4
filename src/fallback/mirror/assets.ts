/**
 * The mirror's static assets under content-hashed names (cached for a year by any host): its
 * stylesheet and script, the MiniSearch browser build the search page loads, and the banner SDK.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MirrorAsset {
  name: 'mirror.css' | 'mirror.js' | 'minisearch.js' | 'keepwarm-banner.js';
  /** assets/NAME.HASH.EXT */
  path: string;
  hash: string;
  type: string;
  body: Buffer;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function load(name: MirrorAsset['name'], file: string): MirrorAsset {
  let body = readFileSync(file);
  // A source map comment would make browsers ask for a file the mirror does not have.
  if (name.endsWith('.js')) body = Buffer.from(body.toString('utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const dot = name.lastIndexOf('.');
  return {
    name,
    path: `assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`,
    hash,
    type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
    body,
  };
}

const require = createRequire(import.meta.url);

export const MIRROR_ASSETS: readonly MirrorAsset[] = [
  load('mirror.css', here('./assets/mirror.css')),
  load('mirror.js', here('./assets/mirror.js')),
  load('minisearch.js', join(dirname(require.resolve('minisearch')), '..', 'umd', 'index.js')),
  load('keepwarm-banner.js', here('../../../web/sdk/keepwarm-banner.js')),
];
