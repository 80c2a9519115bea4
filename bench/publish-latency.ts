import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3RVER_CREDENTIALS, type S3StandIn, startS3StandIn } from '../test/harness/s3rver.js';
import { envNumber, median, round } from './lib/env.js';
import { type KeepwarmServer, startKeepwarm } from './lib/keepwarm.js';
import { makeTempDir, removeTempDir } from './lib/process.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const FOLDER_TARGET_MS = 1000;
const S3_TARGET_MS = 2000;
const GIVE_UP_MS = 15_000;

/** Poll until `check` is true; the elapsed ms since `t0`, or null after GIVE_UP_MS. */
async function until(t0: number, intervalMs: number, check: () => Promise<boolean>): Promise<number | null> {
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - t0;
    if (performance.now() - t0 > GIVE_UP_MS) return null;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Legal's part, done up front: public updates are refused until the notice templates are approved. */
async function approveTemplates(kw: KeepwarmServer): Promise<void> {
  const { templates } = await kw.api<{ templates: Array<{ id: string; state: string }> }>('GET', '/api/v1/templates');
  for (const t of templates) {
    if (t.state === 'draft') await kw.api('POST', `/api/v1/templates/${t.id}/submit`, {});
    if (t.state === 'draft' || t.state === 'in_review') await kw.api('POST', `/api/v1/templates/${t.id}/approve`, {});
  }
}

/**
 * From "publish" (an update posted through the API) to every static target showing it: a folder
 * (the file a web server would send) and an S3 bucket (s3rver in this process), median of rounds.
 */
export const publishLatency: Benchmark = {
  name: 'publish-latency',
  description: 'update posted → folder and S3 targets show it (median ms)',
  async run(): Promise<BenchResult> {
    const rounds = envNumber('BENCH_ROUNDS', 7, { integer: true, min: 1 });
    const dir = await makeTempDir('keepwarm-bench-publish-');
    let s3: S3StandIn | undefined;
    let kw: KeepwarmServer | undefined;
    try {
      s3 = await startS3StandIn();
      const site = join(dir, 'site');
      const config = join(dir, 'keepwarm.yaml');
      await writeFile(
        config,
        JSON.stringify({
          status: {
            targets: [
              { type: 'folder', name: 'site', path: site },
              {
                type: 's3',
                name: 'bucket',
                bucket: s3.bucket,
                endpoint: s3.endpoint,
                forcePathStyle: true,
                ...S3RVER_CREDENTIALS,
              },
            ],
          },
        }),
      );
      kw = await startKeepwarm({ dataDir: join(dir, 'data'), env: { KEEPWARM_CONFIG: config } });
      await approveTemplates(kw);
      const component = await kw.api<{ id: string }>('POST', '/api/v1/components', { name: 'Showroom CDN', kind: 'cdn' });
      const incident = await kw.api<{ id: string }>('POST', '/api/v1/incidents', {
        name: 'Product images failing',
        message: 'Product images fail to load for some buyers; we are investigating.',
        components: [{ id: component.id, status: 'partial_outage' }],
      });
      const bucket = s3;
      const folderMs: number[] = [];
      const s3Ms: number[] = [];
      // Let the declaration's publishes settle before measuring.
      await until(performance.now(), 20, async () =>
        (await readFile(join(site, 'index.html'), 'utf8')).includes('Product images'),
      );
      for (let i = 1; i <= rounds; i++) {
        const marker = `Round ${i}: images are back for ${i * 10}% of buyers (${Date.now().toString(36)}).`;
        const t0 = performance.now();
        await kw.api('POST', `/api/v1/incidents/${incident.id}/updates`, { status: 'identified', message: marker });
        const [folder, object] = await Promise.all([
          until(t0, 5, async () => (await readFile(join(site, 'index.html'), 'utf8')).includes(marker)),
          until(t0, 10, async () => (await bucket.get('index.html')).body.includes(marker)),
        ]);
        console.log(
          `  round ${i}: folder ${folder === null ? 'timeout' : `${folder.toFixed(0)} ms`}, s3 ${object === null ? 'timeout' : `${object.toFixed(0)} ms`}`,
        );
        folderMs.push(folder ?? GIVE_UP_MS);
        s3Ms.push(object ?? GIVE_UP_MS);
      }
      const folder = round(median(folderMs), 1);
      const object = round(median(s3Ms), 1);
      const ratio = round(Math.max(folder / FOLDER_TARGET_MS, object / S3_TARGET_MS), 3);
      console.log(
        `publish-latency: folder median ${folder} ms (target < ${FOLDER_TARGET_MS} ms), s3 median ${object} ms (target < ${S3_TARGET_MS} ms)`,
      );
      console.log(`  ratio to target ${ratio} (worst of the two; <= 1 meets it)`);
      return {
        bench: 'publish-latency',
        figures: {
          rounds,
          folder_median_ms: folder,
          folder_max_ms: round(Math.max(...folderMs), 1),
          s3_median_ms: object,
          s3_max_ms: round(Math.max(...s3Ms), 1),
        },
        reference: { folder_target_ms: FOLDER_TARGET_MS, s3_target_ms: S3_TARGET_MS },
        ratio,
        target: `folder median < ${FOLDER_TARGET_MS} ms and s3 median < ${S3_TARGET_MS} ms`,
        pass: folder < FOLDER_TARGET_MS && object < S3_TARGET_MS,
      };
    } finally {
      await kw?.stop();
      await s3?.stop();
      await removeTempDir(dir);
    }
  },
};
