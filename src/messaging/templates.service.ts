import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { conflict, forbidden, notFound, unprocessable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Database, Executor } from '../db/database.js';
import { DEFAULT_LOCALE, SAMPLE_VARIABLES } from './default-templates.js';
import type { Purpose, TemplateChannel } from './messaging.js';
import {
  type ChannelFacts,
  channelFacts,
  type Footer,
  type RenderSource,
  renderTemplate,
  syntaxProblems,
  templateVariables,
} from './render.js';
import type { ApprovedTemplate, RenderedContent, TemplateSource } from './templates.contract.js';
import {
  checkVersionAction,
  contentProblems,
  headlineState,
  isOpenState,
  normalizeSubject,
  type TemplateAction,
  type TemplateState,
} from './templates.js';
import * as repo from './templates.repo.js';
import { renderUpdate, type UpdateFacts, type UpdateRendering } from './update-renderer.js';

export { DEFAULT_LOCALE };

export interface TemplateInput {
  key: string;
  locale?: string | undefined;
  channel: TemplateChannel;
  purpose: Purpose;
  name: string;
  description?: string | null | undefined;
  subject?: string | null | undefined;
  body: string;
}

export interface TemplatePatch {
  name?: string | undefined;
  description?: string | null | undefined;
  subject?: string | null | undefined;
  body?: string | undefined;
}

export interface TemplateDetail {
  template: repo.TemplateRecord;
  /** Newest first. */
  versions: repo.VersionRecord[];
}

export interface TemplateSummary {
  template: repo.TemplateRecord;
  state: TemplateState;
  approvedVersion: number | null;
  openVersion: { version: number; state: TemplateState } | null;
}

/** The list view of a template from its versions. */
export function summarize(detail: TemplateDetail): TemplateSummary {
  const open = detail.versions.find((v) => isOpenState(v.state));
  const approved = detail.versions.find((v) => v.state === 'approved');
  return {
    template: detail.template,
    state: headlineState(detail.versions.map((v) => v.state)),
    approvedVersion: approved?.version ?? null,
    openVersion: open ? { version: open.version, state: open.state } : null,
  };
}

export interface PreviewInput {
  variables: Record<string, unknown>;
  /** Version number (default: the open draft or review, else the approved, else the newest). */
  version?: number | undefined;
  /** Fill variables the request does not give with sample values. */
  useSamples?: boolean | undefined;
}

/** Settings a preview needs to show what dispatch would send (from the config, via the route). */
export interface PreviewOptions {
  socialLimit: number;
  publicUrl: string;
  postalAddress?: string | undefined;
  /** messaging.variables: defaults the outbox uses too. */
  defaults?: Record<string, string> | undefined;
}

export interface Preview {
  template: repo.TemplateRecord;
  version: repo.VersionRecord;
  content: RenderedContent;
  facts: ChannelFacts;
  /** Variables the template uses. */
  variables: string[];
  /** Variables that were filled with sample values. */
  sampled: string[];
}

interface VersionGuard {
  /** The version number the caller saw; a different one answers 409. */
  version?: number | undefined;
}

/**
 * The template library: templates with versions (draft → in review → approved → retired),
 * legal's review, rendering, previews, the default library and "one update, every channel".
 */
export class TemplateService implements TemplateSource {
  readonly #db: Database;
  readonly #clock: Clock;

  constructor(deps: { db: Database; clock: Clock; bus: Bus }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  async list(
    filter: {
      channel?: TemplateChannel | undefined;
      state?: TemplateState | undefined;
      key?: string | undefined;
      locale?: string | undefined;
      limit?: number | undefined;
    } = {},
  ): Promise<{ templates: TemplateSummary[]; awaitingReview: number }> {
    const ex = this.#db.kysely;
    const templates = await repo.listTemplates(ex, {
      limit: filter.limit ?? 500,
      ...(filter.channel && { channel: filter.channel }),
      ...(filter.key && { key: filter.key }),
      ...(filter.locale && { locale: filter.locale }),
    });
    const states = await repo.listVersionStates(
      ex,
      templates.map((t) => t.id),
    );
    const byTemplate = new Map<string, typeof states>();
    for (const s of states) byTemplate.set(s.templateId, [...(byTemplate.get(s.templateId) ?? []), s]);
    const summaries = templates.map((template): TemplateSummary => {
      const own = byTemplate.get(template.id) ?? [];
      const open = own.find((s) => isOpenState(s.state));
      const approved = own.find((s) => s.state === 'approved');
      return {
        template,
        state: headlineState(own.map((s) => s.state)),
        approvedVersion: approved?.version ?? null,
        openVersion: open ? { version: open.version, state: open.state } : null,
      };
    });
    return {
      templates: filter.state ? summaries.filter((s) => s.state === filter.state) : summaries,
      awaitingReview: await repo.countAwaitingReview(ex),
    };
  }

  async get(id: string): Promise<TemplateDetail> {
    return this.#detail(this.#db.kysely, id);
  }

  async findByKey(key: string, locale = DEFAULT_LOCALE): Promise<TemplateDetail | undefined> {
    const template = await repo.findTemplateByKey(this.#db.kysely, key, locale);
    return template ? this.#detail(this.#db.kysely, template.id) : undefined;
  }

  awaitingReview(): Promise<number> {
    return repo.countAwaitingReview(this.#db.kysely);
  }

  /** Variables a version uses (empty when it does not parse, which saving prevents). */
  variablesOf(template: repo.TemplateRecord, version: repo.VersionRecord): string[] {
    try {
      return templateVariables(renderSource(template, version));
    } catch {
      return [];
    }
  }

  // -------------------------------------------------------------------------------------------
  // Writing: every change in one transaction with its audit entry

  async create(actor: Actor, input: TemplateInput): Promise<TemplateDetail> {
    const now = this.#clock.now();
    const subject = normalizeSubject(input.channel, input.subject);
    assertContent(input.channel, subject, input.body);
    const id = newId(now);
    const locale = input.locale ?? DEFAULT_LOCALE;
    await this.#db.tx(async (trx) => {
      const inserted = await repo.insertTemplate(trx, {
        id,
        key: input.key,
        locale,
        channel: input.channel,
        purpose: input.purpose,
        name: input.name.trim(),
        description: input.description?.trim() || null,
        created_at: now,
        updated_at: now,
      });
      if (!inserted) {
        const existing = await repo.findTemplateByKey(trx, input.key, locale);
        throw conflict('template_exists', `Template ${input.key} (${locale}) exists already; edit it instead.`, {
          field: 'key',
          id: existing?.id,
        });
      }
      await repo.insertVersion(
        trx,
        repo.draftVersionRow({ templateId: id, version: 1, subject, body: input.body, author: actor.name, now }),
      );
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'template.create',
        target: { type: 'template', id },
        details: { key: input.key, locale, channel: input.channel, purpose: input.purpose },
      });
    });
    return this.get(id);
  }

  /**
   * Change a template. Name and description change in place. New wording edits the open draft,
   * or — when the newest version is approved or retired — starts a new draft from the approved
   * version: an approved version never changes. While a version awaits review nothing changes
   * (409): legal approves or sends back exactly what was submitted.
   */
  async update(actor: Actor, id: string, patch: TemplatePatch): Promise<TemplateDetail> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      const template = await this.#lockTemplate(trx, id);
      const versions = await repo.listVersions(trx, [id]);
      const meta: { name?: string; description?: string | null } = {};
      if (patch.name !== undefined && patch.name.trim() !== template.name) meta.name = patch.name.trim();
      if (patch.description !== undefined && (patch.description?.trim() || null) !== template.description) {
        meta.description = patch.description?.trim() || null;
      }
      if (patch.subject !== undefined || patch.body !== undefined) {
        await this.#editContent(trx, actor, template, versions, patch, now);
      }
      if (Object.keys(meta).length > 0) {
        await repo.updateTemplate(trx, id, { ...meta, updated_at: now });
        await recordAudit(trx, {
          at: now,
          actor,
          action: 'template.rename',
          target: { type: 'template', id },
          details: { fields: Object.keys(meta) },
        });
      }
    });
    return this.get(id);
  }

  async #editContent(
    trx: Executor,
    actor: Actor,
    template: repo.TemplateRecord,
    versions: repo.VersionRecord[],
    patch: TemplatePatch,
    now: number,
  ): Promise<void> {
    const open = versions.find((v) => isOpenState(v.state));
    if (open && open.state !== 'draft') {
      const check = checkVersionAction(open.state, 'edit');
      throw conflict('illegal_transition', check.ok ? 'The version cannot be edited.' : check.reason, {
        version: open.version,
        state: open.state,
        action: 'edit',
      });
    }
    const base = open ?? versions.find((v) => v.state === 'approved') ?? versions[0];
    const subject = patch.subject !== undefined ? normalizeSubject(template.channel, patch.subject) : (base?.subject ?? null);
    const body = patch.body ?? base?.body ?? '';
    assertContent(template.channel, subject, body);
    if (open) {
      if (open.subject === subject && open.body === body) return;
      await repo.updateVersion(trx, open.id, { subject, body, updated_at: now });
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'template.edit',
        target: { type: 'template', id: template.id },
        details: { version: open.version },
      });
    } else {
      const version = (versions[0]?.version ?? 0) + 1;
      await repo.insertVersion(
        trx,
        repo.draftVersionRow({ templateId: template.id, version, subject, body, author: actor.name, now }),
      );
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'template.edit',
        target: { type: 'template', id: template.id },
        details: { version, new_version: true, based_on: base?.version ?? null },
      });
    }
    await repo.updateTemplate(trx, template.id, { updated_at: now });
  }

  /** Draft → in review: legal sees it in the queue. */
  async submit(actor: Actor, id: string, guard: VersionGuard = {}): Promise<TemplateDetail> {
    return this.#transition(actor, id, 'submit', guard, async (trx, template, version, now) => {
      assertContent(template.channel, version.subject, version.body);
      await repo.updateVersion(trx, version.id, {
        state: 'in_review',
        submitted_by: actor.name,
        submitted_at: now,
        updated_at: now,
      });
    });
  }

  /**
   * In review → approved (legal or admin only). The previously approved version of the template
   * is retired in the same transaction, so exactly one version is ever dispatched.
   */
  async approve(actor: Actor, id: string, input: VersionGuard & { note?: string | undefined } = {}): Promise<TemplateDetail> {
    this.#assertReviewer(actor, 'approve');
    return this.#transition(actor, id, 'approve', input, async (trx, template, version, now, versions) => {
      assertContent(template.channel, version.subject, version.body);
      const previous = versions.find((v) => v.state === 'approved');
      if (previous) {
        await repo.updateVersion(trx, previous.id, {
          state: 'retired',
          retired_by: actor.name,
          retired_at: now,
          updated_at: now,
        });
      }
      await repo.updateVersion(trx, version.id, {
        state: 'approved',
        approved_by: actor.name,
        approved_at: now,
        review_note: input.note?.trim() || null,
        updated_at: now,
      });
      return { retired_version: previous?.version ?? null };
    });
  }

  /** In review → draft, with a note saying what to change (legal or admin only). */
  async reject(actor: Actor, id: string, input: VersionGuard & { note: string }): Promise<TemplateDetail> {
    this.#assertReviewer(actor, 'reject');
    const note = input.note.trim();
    if (!note) throw unprocessable('note_required', 'Say what needs to change: sending back needs a note.', { field: 'note' });
    return this.#transition(actor, id, 'reject', input, async (trx, _template, version, now) => {
      await repo.updateVersion(trx, version.id, { state: 'draft', review_note: note, updated_at: now });
    });
  }

  /** Approved → retired: nothing of this template is dispatched until a new version is approved. */
  async retire(actor: Actor, id: string, guard: VersionGuard = {}): Promise<TemplateDetail> {
    this.#assertReviewer(actor, 'retire');
    return this.#transition(actor, id, 'retire', guard, async (trx, _template, version, now) => {
      await repo.updateVersion(trx, version.id, { state: 'retired', retired_by: actor.name, retired_at: now, updated_at: now });
    });
  }

  async #transition(
    actor: Actor,
    id: string,
    action: Exclude<TemplateAction, 'edit'>,
    guard: VersionGuard,
    apply: (
      trx: Executor,
      template: repo.TemplateRecord,
      version: repo.VersionRecord,
      now: number,
      versions: repo.VersionRecord[],
    ) => Promise<Record<string, unknown> | undefined>,
  ): Promise<TemplateDetail> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      const template = await this.#lockTemplate(trx, id);
      const versions = await repo.listVersions(trx, [id]);
      const from: TemplateState = action === 'retire' ? 'approved' : action === 'submit' ? 'draft' : 'in_review';
      // The version the action is about: the one in the right state, else the one the caller named,
      // else the open or newest one (to explain why it cannot be done).
      const subject =
        versions.find((v) => v.state === from) ??
        (guard.version !== undefined ? versions.find((v) => v.version === guard.version) : undefined) ??
        versions.find((v) => isOpenState(v.state)) ??
        versions[0];
      if (!subject) throw conflict('no_version', `Template ${template.key} has no versions.`);
      if (guard.version !== undefined && guard.version !== subject.version) {
        throw conflict(
          'version_mismatch',
          `Version ${guard.version} is not the one to ${action}: version ${subject.version} is ${subject.state.replace('_', ' ')}. Reload and look again.`,
          { expected: guard.version, actual: subject.version, state: subject.state },
        );
      }
      const check = checkVersionAction(subject.state, action);
      if (!check.ok) {
        throw conflict('illegal_transition', `Version ${subject.version} of ${template.key}: ${check.reason}`, {
          version: subject.version,
          state: subject.state,
          action,
        });
      }
      const extra = await apply(trx, template, subject, now, versions);
      await repo.updateTemplate(trx, id, { updated_at: now });
      await recordAudit(trx, {
        at: now,
        actor,
        action: `template.${action}`,
        target: { type: 'template', id },
        details: { key: template.key, locale: template.locale, version: subject.version, to: check.to, ...(extra ?? {}) },
      });
    });
    return this.get(id);
  }

  #assertReviewer(actor: Actor, action: string): void {
    if (!can(actor.role, 'templates.approve')) {
      throw forbidden('forbidden', `Only legal or an admin may ${action} templates; your role is ${actor.role}.`);
    }
  }

  async #lockTemplate(trx: Executor, id: string): Promise<repo.TemplateRecord> {
    const template = await repo.findTemplate(trx, id, this.#db.dialect);
    if (!template) throw notFound('Template', id);
    return template;
  }

  async #detail(ex: Executor, id: string): Promise<TemplateDetail> {
    const template = await repo.findTemplate(ex, id);
    if (!template) throw notFound('Template', id);
    return { template, versions: await repo.listVersions(ex, [id]) };
  }

  // -------------------------------------------------------------------------------------------
  // Rendering

  async requireApproved(ex: Executor, key: string, locale = DEFAULT_LOCALE): Promise<ApprovedTemplate> {
    for (const loc of [...new Set([locale, DEFAULT_LOCALE])]) {
      const found = await repo.findApproved(ex, key, loc);
      if (found) {
        const { template, version } = found;
        return {
          templateId: template.id,
          key: template.key,
          locale: template.locale,
          channel: template.channel,
          purpose: template.purpose,
          versionId: version.id,
          version: version.version,
          subject: version.subject,
          body: version.body,
        };
      }
    }
    throw unprocessable(
      'template_not_approved',
      `No approved version of template ${key} (${locale}); legal must approve one first.`,
      {
        template: key,
        locale,
      },
    );
  }

  render(
    template: ApprovedTemplate,
    variables: Record<string, unknown>,
    footer?: { unsubscribeUrl: string; postalAddress: string },
  ): RenderedContent {
    return renderTemplate(template, variables, footer);
  }

  /**
   * Render one version with variables as dispatch would (defaults from the config under the
   * request's variables, an unsubscribe link for email, the footer for marketing email) and
   * report the channel facts: SMS encoding and parts, social length, email subject length.
   */
  async preview(id: string, input: PreviewInput, options: PreviewOptions): Promise<Preview> {
    const { template, versions } = await this.get(id);
    const version =
      input.version !== undefined
        ? versions.find((v) => v.version === input.version)
        : (versions.find((v) => isOpenState(v.state)) ?? versions.find((v) => v.state === 'approved') ?? versions[0]);
    if (!version) {
      throw unprocessable(
        'unknown_version',
        input.version !== undefined
          ? `Template ${template.key} has no version ${input.version}; it has ${versions.map((v) => v.version).join(', ')}.`
          : `Template ${template.key} has no versions.`,
        { field: 'version' },
      );
    }
    const source = renderSource(template, version);
    const used = templateVariables(source);
    const given: Record<string, unknown> = { ...options.defaults, ...input.variables };
    if (template.channel === 'email' && isBlank(given.unsubscribe_url)) {
      given.unsubscribe_url = `${options.publicUrl}/u/preview`;
    }
    const sampled: string[] = [];
    if (input.useSamples) {
      for (const name of used) {
        const root = name.split(/[.[]/)[0] ?? name;
        const sample = SAMPLE_VARIABLES[root];
        if (isBlank(given[root]) && sample !== undefined) {
          given[root] = sample;
          sampled.push(root);
        }
      }
    }
    const marketingEmail = template.channel === 'email' && template.purpose === 'marketing';
    const footer: Footer | undefined = marketingEmail
      ? {
          unsubscribeUrl: String(given.unsubscribe_url),
          postalAddress: options.postalAddress ?? '(postal address: set messaging.postalAddress)',
        }
      : undefined;
    const content = renderTemplate(source, given, footer);
    const facts = channelFacts(template.channel, content, { socialLimit: options.socialLimit });
    if (marketingEmail && !options.postalAddress) {
      facts.warnings.push('Marketing email is refused until messaging.postalAddress (KEEPWARM_POSTAL_ADDRESS) is set.');
    }
    return { template, version, content, facts, variables: used, sampled };
  }

  /**
   * One update, every channel: render the approved status, banner, email, SMS, social and Slack
   * templates from one set of facts. Channels without an approved template are reported.
   */
  async renderUpdate(
    facts: UpdateFacts,
    options: { locale?: string | undefined; defaults?: Record<string, string>; socialLimit: number; keys?: readonly string[] },
  ): Promise<UpdateRendering> {
    const ex = this.#db.kysely;
    return renderUpdate(
      {
        lookup: (key) => this.requireApproved(ex, key, options.locale ?? DEFAULT_LOCALE),
        render: (template, variables) => renderTemplate(template, variables),
      },
      facts,
      {
        socialLimit: options.socialLimit,
        ...(options.defaults && { defaults: options.defaults }),
        ...(options.keys && { keys: options.keys }),
      },
    );
  }
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

export function renderSource(template: repo.TemplateRecord, version: repo.VersionRecord): RenderSource {
  return {
    versionId: version.id,
    key: template.key,
    channel: template.channel,
    purpose: template.purpose,
    subject: version.subject,
    body: version.body,
  };
}

/** Channel rules and Liquid syntax of a version's content: 422 naming every problem. */
function assertContent(channel: TemplateChannel, subject: string | null, body: string): void {
  const content = contentProblems(channel, subject, body);
  const problems = [...content, ...(content.length === 0 ? syntaxProblems(channel, subject, body) : [])];
  const first = problems[0];
  if (!first) return;
  throw unprocessable(
    content.length > 0 ? 'invalid_content' : 'invalid_template',
    `${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
    problems.map((p) => ({ field: p.field, message: p.message })),
  );
}
