/**
 * Builds the mirror into a working folder, incrementally: a file whose key is unchanged since the
 * last build is kept as it is; only the others are rendered and written (each through a temporary
 * name and a rename, so a publisher that hard-linked the old file keeps the old bytes). The
 * manifest (`manifest.json` beside the site folder) lists every file with its key, SHA-256, size,
 * type and bundle. A build that stopped half-way leaves a marker, and the next build starts over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MirrorPlan, PlannedFile } from './plan.js';

export interface ManifestFile {
  key: string;
  sha256: string;
  size: number;
  type: string;
  bundle: string | null;
}

export interface MirrorManifest {
  version: 1;
  /** The build that produced it. */
  build: string;
  snapshot_id: string;
  /** ISO-8601. */
  built_at: string;
  files: Record<string, ManifestFile>;
}

export interface BuildReport {
  build: string;
  snapshotId: string;
  full: boolean;
  files: number;
  rendered: number;
  reused: number;
  removed: number;
  bytes: number;
  /** Paths written by this build (what an incremental publish must send). */
  changed: string[];
  removedPaths: string[];
  durationMs: number;
  warnings: string[];
}

/** Files rendered between two turns of the event loop (a build shares the process with the web server). */
const BATCH = 64;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export class MirrorBuilder {
  /** The working folder: `site/` (the files) and `manifest.json`. */
  readonly dir: string;
  readonly siteDir: string;
  readonly #manifestPath: string;
  readonly #marker: string;

  constructor(dir: string) {
    this.dir = dir;
    this.siteDir = join(dir, 'site');
    this.#manifestPath = join(dir, 'manifest.json');
    this.#marker = join(dir, 'building');
  }

  /** The last manifest read or written, with the file's modification time (read again when it changed). */
  #cached: { manifest: MirrorManifest; mtimeMs: number } | null = null;

  async manifest(): Promise<MirrorManifest | null> {
    try {
      const { mtimeMs } = await stat(this.#manifestPath);
      if (this.#cached?.mtimeMs === mtimeMs) return this.#cached.manifest;
      const parsed = JSON.parse(await readFile(this.#manifestPath, 'utf8')) as MirrorManifest;
      if (parsed.version !== 1 || !parsed.files) return null;
      this.#cached = { manifest: parsed, mtimeMs };
      return parsed;
    } catch {
      return null;
    }
  }

  async build(
    plan: MirrorPlan,
    meta: { build: string; snapshotId: string; now: Date },
    options: { full?: boolean } = {},
  ): Promise<{ report: BuildReport; manifest: MirrorManifest }> {
    const t0 = performance.now();
    await mkdir(this.dir, { recursive: true });
    const interrupted = await exists(this.#marker);
    const previous = options.full || interrupted ? null : await this.manifest();
    const full = previous === null;
    if (full) await rm(this.siteDir, { recursive: true, force: true });
    await writeFile(this.#marker, meta.build);
    await mkdir(this.siteDir, { recursive: true, mode: 0o755 });

    const files: Record<string, ManifestFile> = {};
    const todo: PlannedFile[] = [];
    for (const f of plan.files) {
      const before = previous?.files[f.path];
      if (before && before.key === f.key) files[f.path] = before;
      else todo.push(f);
    }
    // Small files, written synchronously a batch at a time (far fewer round trips than one
    // promise per file), with a turn of the event loop between batches.
    const made = new Set<string>();
    let bytes = 0;
    const suffix = `.${randomBytes(4).toString('hex')}.tmp`;
    for (let i = 0; i < todo.length; i += BATCH) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const f of todo.slice(i, i + BATCH)) {
        const body = f.render();
        const d = dirname(f.path);
        if (d !== '.' && !made.has(d)) {
          mkdirSync(join(this.siteDir, d), { recursive: true, mode: 0o755 });
          made.add(d);
        }
        const target = join(this.siteDir, f.path);
        writeFileSync(target + suffix, body, { mode: 0o644 });
        renameSync(target + suffix, target);
        bytes += body.length;
        files[f.path] = {
          key: f.key,
          sha256: createHash('sha256').update(body).digest('hex'),
          size: body.length,
          type: f.contentType,
          bundle: f.bundle,
        };
      }
    }
    const removedPaths = previous ? Object.keys(previous.files).filter((p) => !(p in files)) : [];
    await Promise.all(removedPaths.map((p) => unlink(join(this.siteDir, p)).catch(() => undefined)));

    const manifest: MirrorManifest = {
      version: 1,
      build: meta.build,
      snapshot_id: meta.snapshotId,
      built_at: meta.now.toISOString(),
      files,
    };
    await writeFile(`${this.#manifestPath}${suffix}`, JSON.stringify(manifest));
    await rename(`${this.#manifestPath}${suffix}`, this.#manifestPath);
    this.#cached = { manifest, mtimeMs: (await stat(this.#manifestPath)).mtimeMs };
    await unlink(this.#marker);
    const report: BuildReport = {
      build: meta.build,
      snapshotId: meta.snapshotId,
      full,
      files: plan.files.length,
      rendered: todo.length,
      reused: plan.files.length - todo.length,
      removed: removedPaths.length,
      bytes,
      changed: todo.map((f) => f.path),
      removedPaths,
      durationMs: Math.round(performance.now() - t0),
      warnings: plan.warnings,
    };
    return { report, manifest };
  }
}
