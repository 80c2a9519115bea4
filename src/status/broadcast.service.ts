import type { Actor } from '../app/actor.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import { AppError, conflict } from '../core/errors.js';
import type { Database, Executor } from '../db/database.js';
import type { ComponentStatus } from '../incidents/incident.js';
import * as incidentsRepo from '../incidents/incidents.repo.js';
import type {
  IncidentChangeHook,
  IncidentDetail,
  IncidentService,
  PublishedUpdate,
  UpdateInput,
} from '../incidents/incidents.service.js';
import type { OutboundChannel } from '../messaging/messaging.js';
import type { OutboxService } from '../messaging/outbox.service.js';
import type { ProviderRegistry } from '../messaging/providers/registry.js';
import type { TemplateService } from '../messaging/templates.service.js';
import type { UpdateFacts, UpdateRendering } from '../messaging/update-renderer.js';
import {
  checkConsistency,
  type Problem,
  refuses,
  SURFACE_TEMPLATES,
  SURFACES,
  type Surface,
  type SurfacePlan,
} from './broadcast.js';
import { countSubscribers } from './subscribers/subscribers.repo.js';

export interface BroadcastOptions {
  publicUrl: string;
  fallbackUrl: string | null;
  socialLimit: number;
  /** The promised interval: what "next update by" says on every channel. */
  promiseMs: number;
  /** Template defaults (company, sender name, …). */
  variables: Record<string, string>;
}

/** How many confirmed subscribers each channel has (the subscribers feature answers). */
export type SubscriberCounts = () => Promise<Partial<Record<'email' | 'sms' | 'webhook', number>>>;

export interface BroadcastPreview {
  facts: UpdateFacts;
  plan: SurfacePlan;
  rendering: UpdateRendering;
  problems: Problem[];
  /** Who would get it: surface → enabled, and recipients where counted. */
  reach: Array<{ surface: Surface; enabled: boolean; recipients: number | null }>;
}

/** Internal and social channels every public update goes to, when a provider is configured. */
const SENT_ON_EVERY_UPDATE: ReadonlyArray<{ surface: Surface; channel: OutboundChannel; address: string }> = [
  { surface: 'slack', channel: 'slack', address: 'internal' },
  { surface: 'social', channel: 'social', address: 'public' },
];

/**
 * Publish once, everywhere. One update goes to the status page, its feeds and JSON, the banner
 * (all rendered from the same record and published on the change), subscribers, internal Slack
 * and, when enabled, social. `preview` shows every surface's words and what would disagree;
 * `publish` refuses an update with errors, then posts it; the change hook sends Slack and social
 * inside the update's own transaction, so every update (console, API, holding update) reaches them.
 */
export class BroadcastService {
  readonly #clock: Clock;
  readonly #incidents: IncidentService;
  readonly #templates: TemplateService;
  readonly #outbox: OutboxService;
  readonly #providers: ProviderRegistry;
  readonly #options: BroadcastOptions;
  #subscriberCounts: SubscriberCounts | null = null;

  constructor(deps: {
    clock: Clock;
    incidents: IncidentService;
    templates: TemplateService;
    outbox: OutboxService;
    providers: ProviderRegistry;
    options: BroadcastOptions;
  }) {
    this.#clock = deps.clock;
    this.#incidents = deps.incidents;
    this.#templates = deps.templates;
    this.#outbox = deps.outbox;
    this.#providers = deps.providers;
    this.#options = deps.options;
  }

  /** Wiring: where subscriber numbers come from. */
  countSubscribersWith(counts: SubscriberCounts): void {
    this.#subscriberCounts = counts;
  }

  /** The facts every channel renders for an update of this incident. */
  facts(incident: { name: string }, update: { status: string; message: string }, at: number): UpdateFacts {
    return {
      incident_name: incident.name,
      status: update.status,
      message: update.message,
      fallback_url: this.#options.fallbackUrl ?? `${this.#options.publicUrl}/status`,
      next_update_at: new Date(at + this.#options.promiseMs).toISOString(),
    };
  }

  async preview(incidentId: string, input: UpdateInput): Promise<BroadcastPreview> {
    const detail = await this.#incidents.get(incidentId);
    const status = input.status ?? detail.incident.status;
    const facts = this.facts(detail.incident, { status, message: input.message.trim() }, this.#clock.now());
    const components = projectComponents(detail, input, status);
    const rendering = await this.#templates.renderUpdate(facts, {
      // What subscriber messages add to the shared facts (each subscriber's own link is shown generically).
      defaults: {
        ...this.#options.variables,
        status_page_url: `${this.#options.publicUrl}/status`,
        unsubscribe_url: `${this.#options.publicUrl}/status/unsubscribe`,
        components: components.map((c) => c.name).join(', ') || 'no specific component',
      },
      socialLimit: this.#options.socialLimit,
      keys: SURFACES.map((surface) => SURFACE_TEMPLATES[surface]),
    });
    const counts = (await this.#subscriberCounts?.()) ?? {};
    const drill = detail.incident.drill;
    const enabled: Record<Surface, boolean> = {
      status_page: true,
      banner: true,
      subscribers_email: (counts.email ?? 0) > 0,
      subscribers_sms: (counts.sms ?? 0) > 0,
      slack: this.#providers.chain('slack', drill).length > 0,
      social: this.#providers.chain('social', drill).length > 0,
    };
    const recipients: Record<Surface, number | null> = {
      status_page: null,
      banner: null,
      subscribers_email: counts.email ?? 0,
      subscribers_sms: counts.sms ?? 0,
      slack: null,
      social: null,
    };
    const plan: SurfacePlan = {
      incident: { name: detail.incident.name, status, drill },
      components,
      channels: SURFACES.map((surface) => ({
        surface,
        enabled: enabled[surface],
        rendering: rendering.channels.find((c) => c.key === SURFACE_TEMPLATES[surface]),
      })),
    };
    return {
      facts,
      plan,
      rendering,
      problems: checkConsistency(plan),
      reach: SURFACES.map((surface) => ({ surface, enabled: enabled[surface], recipients: recipients[surface] })),
    };
  }

  /** Check, then publish: refused (409 `inconsistent_update`, with the problems) when a surface would disagree. */
  async publish(actor: Actor, incidentId: string, input: UpdateInput): Promise<IncidentDetail> {
    const preview = await this.preview(incidentId, input);
    if (refuses(preview.problems)) {
      const errors = preview.problems.filter((p) => p.level === 'error');
      throw conflict('inconsistent_update', errors.map((p) => p.message).join(' '), { problems: errors });
    }
    return this.#incidents.postUpdate(actor, incidentId, input);
  }

  /** The incident change hook: internal Slack and social get every public update, in its transaction. */
  hook(): IncidentChangeHook {
    return async (trx, change) => {
      if (change.type !== 'update') return;
      const incident = await incidentsRepo.findIncident(trx, change.incidentId);
      if (!incident) return;
      const facts = this.facts(incident, change.update, change.at);
      for (const target of SENT_ON_EVERY_UPDATE) {
        if (this.#providers.chain(target.channel, change.drill).length === 0) continue;
        if (!(await this.#approved(trx, SURFACE_TEMPLATES[target.surface]))) continue;
        await this.#outbox.dispatch(trx, {
          templateKey: SURFACE_TEMPLATES[target.surface],
          recipients: [{ address: target.address }],
          variables: { ...facts },
          incidentId: change.incidentId,
          step: `update:${change.eventId}`,
          drill: change.drill,
        });
      }
    };
  }

  /** A channel without an approved template stays silent rather than blocking the public update. */
  async #approved(trx: Executor, key: string): Promise<boolean> {
    try {
      await this.#templates.requireApproved(trx, key);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return false;
      throw err;
    }
  }
}

/** The incident's components as the status page would show them after the update. */
function projectComponents(
  detail: IncidentDetail,
  input: UpdateInput,
  status: PublishedUpdate['status'],
): SurfacePlan['components'] {
  const given = new Map((input.components ?? []).map((c) => [c.id, c.status]));
  const resolved = status === 'resolved' || status === 'postmortem';
  return detail.components.map(({ component, status: current }) => {
    const next: ComponentStatus = given.get(component.id) ?? (resolved ? 'operational' : current);
    return { name: component.name, status: next, given: given.has(component.id) };
  });
}

/** Wiring: the broadcast service with its Slack/social hook registered and subscriber counts. */
export function createBroadcastService(s: {
  config: Config;
  clock: Clock;
  db: Database;
  incidents: IncidentService;
  templates: TemplateService;
  outbox: OutboxService;
  providers: ProviderRegistry;
}): BroadcastService {
  const { config } = s;
  const broadcast = new BroadcastService({
    clock: s.clock,
    incidents: s.incidents,
    templates: s.templates,
    outbox: s.outbox,
    providers: s.providers,
    options: {
      publicUrl: config.publicUrl,
      fallbackUrl: config.status.fallbackUrl ?? config.messaging.variables.fallback_url ?? null,
      socialLimit: config.mastodon.characterLimit,
      promiseMs: config.playbook.cadence.promiseEvery,
      variables: config.messaging.variables,
    },
  });
  s.incidents.onChange(broadcast.hook());
  broadcast.countSubscribersWith(async () => {
    const counts: Partial<Record<'email' | 'sms' | 'webhook', number>> = {};
    for (const row of await countSubscribers(s.db.kysely)) {
      if (row.state === 'confirmed') counts[row.channel] = (counts[row.channel] ?? 0) + row.count;
    }
    return counts;
  });
  return broadcast;
}
