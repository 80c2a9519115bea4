import type { Command } from 'commander';
import { AppError } from '../core/errors.js';
import type { BuildReport } from '../fallback/mirror/builder.js';
import type { RebuildResult } from '../fallback/mirror/mirror.service.js';
import { type CommonOptions, withCommonOptions, withServices } from './common.js';

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

export function formatBuild(b: BuildReport): string[] {
  return [
    `mirror build ${b.build} from snapshot ${b.snapshotId}${b.full ? ' (full)' : ''}: ${b.files} files, ${b.rendered} rendered, ${b.reused} unchanged, ${b.removed} removed, ${mb(b.bytes)} written in ${b.durationMs} ms`,
    ...b.warnings.map((w) => `  warning: ${w}`),
  ];
}

export function formatPublications(publications: RebuildResult['publications']): string[] {
  if (publications.length === 0) return ['no mirror targets configured (fallback.targets): built only'];
  return publications.map((p) =>
    'error' in p
      ? `  ${p.target} (${p.type}): FAILED: ${p.error}`
      : `  ${p.target} (${p.type}): ${p.written} written and verified, ${p.reused} already there, ${p.deleted} removed, ${mb(p.bytes)} in ${p.durationMs} ms${p.version ? `, version ${p.version}` : ''}`,
  );
}

/** `keepwarm fallback build` and `keepwarm fallback publish`. */
export function registerFallbackCommands(program: Command, io: { stdout: NodeJS.WritableStream }): void {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const fallback = program.command('fallback').description('the fallback mirror (static backup catalog)');
  const failIfAny = (publications: RebuildResult['publications']) => {
    const failed = publications.filter((p) => 'error' in p);
    if (failed.length > 0)
      throw new AppError(
        502,
        'publish_failed',
        `publishing failed for ${failed.map((f) => f.target).join(', ')} (the others are published)`,
      );
  };
  withCommonOptions(fallback.command('build'))
    .description('build the mirror from the latest catalog snapshot (incremental) and publish it to every target')
    .option('--full', 'render every file again instead of only what changed')
    .option('--no-publish', 'build only')
    .action(async (o: CommonOptions & { full?: boolean; publish: boolean }) => {
      const result = await withServices(o, (s) =>
        s.mirror.rebuild({ trigger: 'cli', full: o.full === true, publish: o.publish }),
      );
      for (const line of formatBuild(result.build)) out(line);
      if (o.publish) for (const line of formatPublications(result.publications)) out(line);
      out(`site folder: ${result.build.files} files (the work folder under the data folder: mirror/site)`);
      failIfAny(result.publications);
    });
  withCommonOptions(fallback.command('publish'))
    .description('publish the last mirror build to every target (or one), with flags.json beside it')
    .option('--target <name>', 'only this target (fallback.targets)')
    .action(async (o: CommonOptions & { target?: string }) => {
      const publications = await withServices(o, (s) => s.mirror.publish(o.target));
      for (const line of formatPublications(publications)) out(line);
      failIfAny(publications);
    });
}
