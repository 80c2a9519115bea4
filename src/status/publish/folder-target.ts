import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { SiteFile } from '../site/site.js';
import type { PublishTarget } from './target.js';

/** Versions kept besides the live one (a slow reader may still be inside an older one). */
const KEEP_VERSIONS = 3;

/**
 * A folder a web server serves. `path` is a symlink to a complete version directory beside it
 * (`.NAME.versions/…`); each publish writes a new version, then renames a new symlink over
 * `path`. rename(2) is atomic, so a reader sees the old site or the new one, never a mix and
 * never a missing file. A real directory found at `path` the first time is moved into the
 * versions folder.
 */
export class FolderTarget implements PublishTarget {
  readonly type = 'folder' as const;
  readonly name: string;
  readonly path: string;
  readonly #versions: string;

  constructor(options: { name: string; path: string }) {
    this.name = options.name;
    this.path = resolve(options.path);
    this.#versions = join(dirname(this.path), `.${basename(this.path)}.versions`);
  }

  async publish(files: readonly SiteFile[]): Promise<void> {
    const parent = dirname(this.path);
    await mkdir(this.#versions, { recursive: true, mode: 0o755 });
    const version = `${String(Date.now()).padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
    const dir = join(this.#versions, version);
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755); // whatever the umask: the web server's user must read it
    try {
      const dirs = new Set(files.map((f) => dirname(f.path)).filter((d) => d !== '.'));
      for (const d of [...dirs].sort()) await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
      await Promise.all(files.map((f) => writeFile(join(dir, f.path), f.body, { mode: 0o644 })));
      const link = join(parent, `.${basename(this.path)}.swap-${randomBytes(4).toString('hex')}`);
      await symlink(join(basename(this.#versions), version), link);
      await this.#moveAsideRealDirectory();
      await rename(link, this.path);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    await this.#clean(version);
  }

  async #moveAsideRealDirectory(): Promise<void> {
    const stat = await lstat(this.path).catch(() => null);
    if (stat && !stat.isSymbolicLink()) {
      await rename(this.path, join(this.#versions, `000000000000000-original-${randomBytes(4).toString('hex')}`));
    }
  }

  async #clean(current: string): Promise<void> {
    const live = basename(await readlink(this.path).catch(() => current));
    const versions = (await readdir(this.#versions)).sort();
    const old = versions.filter((v) => v !== live && v !== current).slice(0, -KEEP_VERSIONS);
    await Promise.all(old.map((v) => rm(join(this.#versions, v), { recursive: true, force: true })));
  }
}
