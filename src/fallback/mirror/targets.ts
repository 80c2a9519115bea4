/**
 * Where the mirror is published: the status page's kinds of target (a folder a web server serves,
 * an S3-compatible bucket), publishing a mirror build incrementally. Every file written is
 * checked against the manifest's SHA-256 (folder: read back; S3: the store's MD5 ETag), and
 * what a target already holds is not sent again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, statSync, symlinkSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../config/config.js';
import { liveVersion, newVersionDir, pruneVersions, switchVersion } from '../../status/publish/folder-target.js';
import { createS3Client, keyPrefix, type S3TargetOptions } from '../../status/publish/s3-target.js';
import type { ManifestFile, MirrorManifest } from './builder.js';

/** A file published with the build but not part of it (flags.json, the manifest). */
export interface ExtraFile {
  path: string;
  body: Buffer;
  type: string;
}

export interface PublishInput {
  siteDir: string;
  manifest: MirrorManifest;
  extras: readonly ExtraFile[];
}

export interface TargetReport {
  target: string;
  type: 'folder' | 's3';
  /** Files written (or uploaded) by this publish. */
  written: number;
  /** Files the target already had (folder: whole shared directories count their files). */
  reused: number;
  deleted: number;
  bytes: number;
  /** Files whose checksum was verified after writing. */
  verified: number;
  /** Folder: the version directory now live. */
  version: string | null;
  durationMs: number;
}

export interface MirrorTarget {
  readonly name: string;
  readonly type: 'folder' | 's3';
  publish(input: PublishInput): Promise<TargetReport>;
  /** Replace one top-level file of the live version (flags.json between builds). */
  replaceFile(file: ExtraFile): Promise<void>;
  close?(): void;
}

export class ChecksumMismatch extends Error {}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** How long hosts and CDNs may keep each kind of file (hashed names never change). */
export function cacheControlFor(path: string, type: string): string {
  if (path.startsWith('assets/') || /^search\/shard-/.test(path)) return 'public, max-age=31536000, immutable';
  if (type.startsWith('application/pdf')) return 'public, max-age=3600, stale-if-error=604800';
  if (path === 'flags.json') return 'public, max-age=30, stale-if-error=86400';
  return 'public, max-age=300, stale-while-revalidate=3600, stale-if-error=604800';
}

/** Files pointing at the rest: written last, so no reader follows a link to a file not there yet. */
const ENTRIES = new Set(['index.html', 'search/index.json', 'search/index.html', 'sitemap.xml', '404.html', 'manifest.json']);

function bundleHash(files: ReadonlyArray<[string, ManifestFile]>): string {
  const hash = createHash('sha256');
  for (const [path, f] of files) hash.update(`${path}\u0000${f.sha256}\n`);
  return hash.digest('hex').slice(0, 32);
}

/** Hard link when source and target share a file system, else a copy (synchronous: many tiny calls). */
function placeSync(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK') copyFileSync(from, to);
    else throw err;
  }
}

/** Hard link when source and target share a file system, else a copy. */
async function place(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK') await copyFile(from, to);
    else throw err;
  }
}

async function verify(path: string, expected: string, label: string): Promise<void> {
  const actual = sha256(await readFile(path));
  if (actual !== expected)
    throw new ChecksumMismatch(`${label}: checksum ${actual.slice(0, 12)}… is not the build's ${expected.slice(0, 12)}…`);
}

/**
 * A folder: `path` is a symlink to a complete version directory (switched by an atomic rename,
 * like the status page's folder target). Directories that are whole bundles (a product shard, a
 * category, the search index, the assets) live once in `.NAME.store/<hash>` and every version
 * links to them, so a version costs a few hundred links whatever the catalog's size, and a
 * publish writes only the bundles that changed.
 */
export class MirrorFolderTarget implements MirrorTarget {
  readonly type = 'folder' as const;
  readonly name: string;
  readonly path: string;
  readonly #versions: string;
  readonly #store: string;
  readonly #keep: number;

  constructor(options: { name: string; path: string; keepVersions: number }) {
    this.name = options.name;
    this.path = resolve(options.path);
    this.#versions = join(dirname(this.path), `.${basename(this.path)}.versions`);
    this.#store = join(dirname(this.path), `.${basename(this.path)}.store`);
    this.#keep = options.keepVersions;
  }

  async publish(input: PublishInput): Promise<TargetReport> {
    const t0 = performance.now();
    const report = emptyReport(this.name, 'folder');
    await mkdir(this.#store, { recursive: true, mode: 0o755 });
    const bundles = new Map<string, Array<[string, ManifestFile]>>();
    const loose: Array<[string, ManifestFile]> = [];
    for (const entry of Object.entries(input.manifest.files)) {
      const bundle = entry[1].bundle;
      if (bundle === null) loose.push(entry);
      else {
        const list = bundles.get(bundle);
        if (list) list.push(entry);
        else bundles.set(bundle, [entry]);
      }
    }
    // What the live version holds: a file with the same inode there (the build's own file, linked)
    // is unchanged and was verified when it was first published.
    const live = await liveVersion(this.path);
    const liveBundles: Record<string, string> = live
      ? ((await readFile(join(this.#versions, `${live}.bundles.json`), 'utf8').then(
          (t) => JSON.parse(t) as Record<string, string>,
          () => ({}),
        )) as Record<string, string>)
      : {};
    const sameInode = (a: string, b: string) => {
      const x = statSync(a, { throwIfNoEntry: false });
      const y = statSync(b, { throwIfNoEntry: false });
      return x !== undefined && y !== undefined && x.ino === y.ino && x.dev === y.dev;
    };
    // 1. Every bundle in the store (new ones written into a temporary folder, checked, renamed in).
    const used: Record<string, string> = {};
    for (const [bundle, files] of bundles) {
      files.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const hash = bundleHash(files);
      used[bundle] = hash;
      const dir = join(this.#store, hash);
      if (existsSync(dir)) {
        report.reused += files.length;
        continue;
      }
      const before = liveBundles[bundle] ? join(this.#store, liveBundles[bundle]) : null;
      const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
      await mkdir(tmp, { recursive: true, mode: 0o755 });
      try {
        const made = new Set<string>();
        for (const [path, f] of files) {
          const inside = path.slice(bundle.length + 1);
          const sub = dirname(inside);
          if (sub !== '.' && !made.has(sub)) {
            await mkdir(join(tmp, sub), { recursive: true, mode: 0o755 });
            made.add(sub);
          }
          const source = join(input.siteDir, path);
          const unchanged = before !== null && sameInode(source, join(before, inside));
          placeSync(source, join(tmp, inside));
          if (unchanged) {
            report.reused++;
            continue;
          }
          await verify(join(tmp, inside), f.sha256, `${this.name}: ${path}`);
          report.written++;
          report.verified++;
          report.bytes += f.size;
        }
        await rename(tmp, dir);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
    }
    // 2. A new version: the loose files, links to the bundles, the extras; then the switch.
    const { version, dir } = await newVersionDir(this.#versions);
    try {
      const made = new Set<string>();
      const ensure = async (d: string) => {
        if (d === '.' || made.has(d)) return;
        await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
        made.add(d);
      };
      for (const [path, f] of loose) {
        await ensure(dirname(path));
        const source = join(input.siteDir, path);
        await place(source, join(dir, path));
        if (live && sameInode(source, join(this.#versions, live, path))) {
          report.reused++;
          continue;
        }
        await verify(join(dir, path), f.sha256, `${this.name}: ${path}`);
        report.written++;
        report.verified++;
        report.bytes += f.size;
      }
      for (const [bundle, hash] of Object.entries(used)) {
        await ensure(dirname(bundle));
        const at = join(dir, bundle);
        symlinkSync(relative(dirname(at), join(this.#store, hash)), at);
      }
      for (const extra of input.extras) {
        await ensure(dirname(extra.path));
        await writeFile(join(dir, extra.path), extra.body, { mode: 0o644 });
        await verify(join(dir, extra.path), sha256(extra.body), `${this.name}: ${extra.path}`);
        report.written++;
        report.verified++;
        report.bytes += extra.body.length;
      }
      await writeFile(join(this.#versions, `${version}.bundles.json`), JSON.stringify(used));
      await switchVersion(this.path, this.#versions, version);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      await rm(join(this.#versions, `${version}.bundles.json`), { force: true });
      throw err;
    }
    report.version = version;
    report.deleted = await this.#prune(version);
    report.durationMs = Math.round(performance.now() - t0);
    return report;
  }

  /** Old versions beyond `keep`, then store bundles no remaining version links to. Returns the bundles removed. */
  async #prune(current: string): Promise<number> {
    const removed = await pruneVersions(this.path, this.#versions, current, this.#keep);
    await Promise.all(removed.map((v) => rm(join(this.#versions, `${v}.bundles.json`), { force: true })));
    const inUse = new Set<string>();
    for (const name of await readdir(this.#versions)) {
      if (!name.endsWith('.bundles.json')) continue;
      try {
        for (const hash of Object.values(
          JSON.parse(await readFile(join(this.#versions, name), 'utf8')) as Record<string, string>,
        ))
          inUse.add(hash);
      } catch {
        return 0; // unreadable: keep everything rather than break a kept version
      }
    }
    const stale = (await readdir(this.#store)).filter((h) => !inUse.has(h));
    await Promise.all(stale.map((h) => rm(join(this.#store, h), { recursive: true, force: true })));
    return stale.length;
  }

  async replaceFile(file: ExtraFile): Promise<void> {
    const version = await liveVersion(this.path);
    if (version === null) return; // nothing published yet: the first publish carries the file
    const target = join(this.#versions, version, file.path);
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, file.body, { mode: 0o644 });
    await rename(tmp, target);
  }
}

/** A publish's report before it has done anything. */
function emptyReport(target: string, type: TargetReport['type']): TargetReport {
  return { target, type, written: 0, reused: 0, deleted: 0, bytes: 0, verified: 0, version: null, durationMs: 0 };
}

/** Files uploaded at once. */
const PARALLEL = 8;

/**
 * An S3-compatible bucket under a prefix. The bucket keeps the last manifest (`manifest.json`):
 * a publish uploads only files whose SHA-256 differs, checks each upload's MD5 ETag, writes the
 * entry documents and the manifest last, then deletes files the new build no longer has. S3 has
 * no multi-object switch: during an upload a reader may see some pages old and some new, never a
 * link to a missing file.
 */
export class MirrorS3Target implements MirrorTarget {
  readonly type = 's3' as const;
  readonly name: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3TargetOptions, client?: S3Client) {
    this.name = options.name;
    this.#bucket = options.bucket;
    this.#prefix = keyPrefix(options.prefix);
    this.#client = client ?? createS3Client(options);
  }

  async #remoteManifest(): Promise<MirrorManifest | null> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: `${this.#prefix}manifest.json` }));
      const parsed = JSON.parse((await out.Body?.transformToString()) ?? '') as MirrorManifest;
      return parsed.version === 1 && parsed.files ? parsed : null;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async #put(path: string, body: Buffer, type: string): Promise<void> {
    const out = await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: `${this.#prefix}${path}`,
        Body: body,
        ContentType: type,
        CacheControl: cacheControlFor(path, type),
        ContentLength: body.length,
      }),
    );
    const md5 = createHash('md5').update(body).digest('hex');
    const etag = out.ETag?.replaceAll('"', '');
    if (etag !== md5)
      throw new ChecksumMismatch(
        `${this.name}: ${path}: the store's checksum ${etag ?? '(none)'} is not the upload's MD5 ${md5}`,
      );
  }

  async publish(input: PublishInput): Promise<TargetReport> {
    const t0 = performance.now();
    const report = emptyReport(this.name, 's3');
    const remote = await this.#remoteManifest();
    const changed: string[] = [];
    for (const [path, f] of Object.entries(input.manifest.files)) {
      if (remote?.files[path]?.sha256 === f.sha256) report.reused++;
      else changed.push(path);
    }
    const later = changed.filter((p) => ENTRIES.has(p));
    const first = changed.filter((p) => !ENTRIES.has(p));
    const upload = async (path: string) => {
      const f = input.manifest.files[path] as ManifestFile;
      const body = await readFile(join(input.siteDir, path));
      if (sha256(body) !== f.sha256) throw new ChecksumMismatch(`${this.name}: ${path} changed on disk since the build`);
      await this.#put(path, body, f.type);
      report.written++;
      report.verified++;
      report.bytes += body.length;
    };
    for (let i = 0; i < first.length; i += PARALLEL) await Promise.all(first.slice(i, i + PARALLEL).map(upload));
    for (const extra of input.extras.filter((e) => e.path !== 'manifest.json')) {
      await this.#put(extra.path, extra.body, extra.type);
      report.written++;
      report.verified++;
      report.bytes += extra.body.length;
    }
    for (const path of later) await upload(path);
    await this.#put('manifest.json', Buffer.from(JSON.stringify(input.manifest)), 'application/json; charset=utf-8');
    const gone = remote ? Object.keys(remote.files).filter((p) => !(p in input.manifest.files)) : [];
    for (let i = 0; i < gone.length; i += 1000) {
      await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: gone.slice(i, i + 1000).map((p) => ({ Key: `${this.#prefix}${p}` })), Quiet: true },
        }),
      );
    }
    report.deleted = gone.length;
    report.durationMs = Math.round(performance.now() - t0);
    return report;
  }

  async replaceFile(file: ExtraFile): Promise<void> {
    await this.#put(file.path, file.body, file.type);
  }

  close(): void {
    this.#client.destroy();
  }
}

export function createMirrorTargets(config: Config['fallback']): MirrorTarget[] {
  return config.targets.map((t) =>
    t.type === 'folder'
      ? new MirrorFolderTarget({ name: t.name, path: t.path, keepVersions: config.keepVersions })
      : new MirrorS3Target(t),
  );
}
