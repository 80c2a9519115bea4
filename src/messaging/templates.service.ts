import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { AppError, unprocessable } from '../core/errors.js';
import type { Database, Executor } from '../db/database.js';
import type { Purpose, TemplateChannel } from './messaging.js';
import type { ApprovedTemplate, RenderedContent, TemplateSource } from './templates.contract.js';

export const DEFAULT_LOCALE = 'en';

/**
 * The template library. (Skeleton: the template-library work fills in versions, review, rendering
 * and the default library; dispatch only needs requireApproved and render.)
 */
export class TemplateService implements TemplateSource {
  readonly #db: Database;

  constructor(deps: { db: Database; clock: Clock; bus: Bus }) {
    this.#db = deps.db;
  }

  async requireApproved(ex: Executor, key: string, locale = DEFAULT_LOCALE): Promise<ApprovedTemplate> {
    for (const loc of [...new Set([locale, DEFAULT_LOCALE])]) {
      const row = await ex
        .selectFrom('templates')
        .innerJoin('template_versions', 'template_versions.template_id', 'templates.id')
        .select([
          'templates.id as template_id',
          'templates.key',
          'templates.locale',
          'templates.channel',
          'templates.purpose',
          'template_versions.id as version_id',
          'template_versions.version',
          'template_versions.subject',
          'template_versions.body',
        ])
        .where('templates.key', '=', key)
        .where('templates.locale', '=', loc)
        .where('template_versions.state', '=', 'approved')
        .executeTakeFirst();
      if (row) {
        return {
          templateId: row.template_id,
          key: row.key,
          locale: row.locale,
          channel: row.channel as TemplateChannel,
          purpose: row.purpose as Purpose,
          versionId: row.version_id,
          version: row.version,
          subject: row.subject,
          body: row.body,
        };
      }
    }
    void this.#db;
    throw unprocessable(
      'template_not_approved',
      `No approved version of template ${key} (${locale}); legal must approve one first.`,
      {
        template: key,
        locale,
      },
    );
  }

  render(_template: ApprovedTemplate, _variables: Record<string, unknown>): RenderedContent {
    throw new AppError(500, 'not_implemented', 'template rendering is not implemented yet');
  }
}
