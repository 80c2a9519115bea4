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
    const { version, dir } = await newVersionDir(this.#versions);
    try {
      const dirs = new Set(files.map((f) => dirname(f.path)).filter((d) => d !== '.'));
      for (const d of [...dirs].sort()) await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
      await Promise.all(files.map((f) => writeFile(join(dir, f.path), f.body, { mode: 0o644 })));
      await switchVersion(this.path, this.#versions, version);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    await pruneVersions(this.path, this.#versions, version, KEEP_VERSIONS);
  }
}

/** A new, empty version directory in `versions` (names sort by creation time). */
export async function newVersionDir(versions: string): Promise<{ version: string; dir: string }> {
  await mkdir(versions, { recursive: true, mode: 0o755 });
  const version = `${String(Date.now()).padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
  const dir = join(versions, version);
  await mkdir(dir, { mode: 0o755 });
  await chmod(dir, 0o755); // whatever the umask: the web server's user must read it
  return { version, dir };
}

/**
 * Point `path` at a version: a new symlink renamed over it (atomic). A real directory found at
 * `path` the first time is moved into the versions folder.
 */
export async function switchVersion(path: string, versions: string, version: string): Promise<void> {
  const link = join(dirname(path), `.${basename(path)}.swap-${randomBytes(4).toString('hex')}`);
  await symlink(join(basename(versions), version), link);
  const stat = await lstat(path).catch(() => null);
  if (stat && !stat.isSymbolicLink()) {
    await rename(path, join(versions, `000000000000000-original-${randomBytes(4).toString('hex')}`));
  }
  await rename(link, path);
}

/** The version `path` points at (null when it is not a symlink into the versions folder). */
export async function liveVersion(path: string): Promise<string | null> {
  const target = await readlink(path).catch(() => null);
  return target === null ? null : basename(target);
}

/** Remove old versions, keeping the live one, the current one and `keep` more. Returns the removed names. */
export async function pruneVersions(path: string, versions: string, current: string, keep: number): Promise<string[]> {
  const live = (await liveVersion(path)) ?? current;
  const names = (await readdir(versions, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  const old = names
    .sort()
    .filter((v) => v !== live && v !== current)
    .slice(0, -keep || undefined);
  await Promise.all(old.map((v) => rm(join(versions, v), { recursive: true, force: true })));
  return old;
}
