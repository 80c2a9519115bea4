import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import { AppError, notFound } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import { findComponentsByIds } from '../../incidents/components.repo.js';
import type { ComponentStatus } from '../../incidents/incident.js';
import * as incidentsRepo from '../../incidents/incidents.repo.js';
import { UPDATE_EVENT } from '../../incidents/incidents.service.js';
import type { TemplateService } from '../../messaging/templates.service.js';
import {
  type ComponentChangeFact,
  checkLlmAnswer,
  type Draft,
  type DraftFacts,
  type DraftStatus,
  draftUpdate,
  llmMessages,
  skeletonKey,
} from './drafter.js';
import { chatCompletion, type Fetch, type LlmOptions } from './llm.js';

export interface DrafterOptions {
  fallbackUrl: string | undefined;
  /** The public promise: a draft says the next update comes this long after it is published. */
  promiseMs: number;
  /** The OpenAI-compatible endpoint; undefined: templates only. */
  llm: LlmOptions | undefined;
}

export interface DraftResult extends Draft {
  facts: DraftFacts;
}

/** Drafts the next public update of an incident; never publishes anything. */
export class DrafterService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #templates: TemplateService;
  readonly #log: Logger;
  readonly #options: DrafterOptions;
  readonly #fetch: Fetch;

  constructor(deps: {
    db: Database;
    clock: Clock;
    templates: TemplateService;
    log: Logger;
    options: DrafterOptions;
    fetch?: Fetch;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#templates = deps.templates;
    this.#log = deps.log;
    this.#options = deps.options;
    this.#fetch = deps.fetch ?? fetch;
  }

  /** The facts a draft of incident `id` is written from, for the status the update will announce. */
  async facts(id: string, status?: DraftStatus): Promise<DraftFacts> {
    const ex = this.#db.kysely;
    const incident = await incidentsRepo.findIncident(ex, id);
    if (!incident) throw notFound('Incident', id);
    const [links, events] = await Promise.all([
      incidentsRepo.listIncidentComponents(ex, [id]),
      incidentsRepo.listEvents(ex, [id]),
    ]);
    const names = await findComponentsByIds(
      ex,
      links.map((l) => l.componentId),
    );
    const now = this.#clock.now();
    const target: DraftStatus = status ?? (incident.status === 'postmortem' ? 'resolved' : (incident.status as DraftStatus));

    // Each component's status in this incident as of the last public update.
    const lastUpdateIndex = events.findLastIndex((e) => e.type === UPDATE_EVENT);
    const atLastUpdate = new Map<string, ComponentStatus>();
    for (const e of events.slice(0, lastUpdateIndex + 1)) {
      for (const c of componentsOf(e)) atLastUpdate.set(c.id, c.status);
    }
    const lastUpdate = lastUpdateIndex >= 0 ? events[lastUpdateIndex] : undefined;
    const components = links.map((l) => ({
      id: l.componentId,
      name: names.get(l.componentId)?.name ?? l.componentId,
      status: l.status,
    }));
    let changes: ComponentChangeFact[] | null = null;
    if (lastUpdate) {
      changes = components
        .filter((c) => atLastUpdate.get(c.id) !== c.status)
        .map((c) => ({ name: c.name, from: atLastUpdate.get(c.id) ?? null, to: c.status }))
        .sort((a, b) => a.name.localeCompare(b.name));
    }
    return {
      incident_name: incident.name,
      status: target,
      current_status: incident.status,
      status_changed: target !== incident.status,
      components: components.map((c) => ({ name: c.name, status: c.status })).sort((a, b) => a.name.localeCompare(b.name)),
      scope: incident.scope,
      started_at: toIso(incident.startedAt),
      duration_minutes: Math.max(0, Math.floor(((incident.resolvedAt ?? now) - incident.startedAt) / 60_000)),
      changes_since_last_update: changes,
      last_update_at: lastUpdate ? toIso(lastUpdate.at) : null,
      fallback_url: this.#options.fallbackUrl ?? null,
      next_update_at: target === 'resolved' ? null : toIso(now + this.#options.promiseMs),
    };
  }

  /** A draft from the approved skeleton (deterministic); through the LLM when one is configured. */
  async draft(id: string, status?: DraftStatus): Promise<DraftResult> {
    const facts = await this.facts(id, status);
    const key = skeletonKey(facts.status);
    let skeleton: Parameters<typeof draftUpdate>[1];
    try {
      const t = await this.#templates.requireApproved(this.#db.kysely, key);
      skeleton = t;
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      skeleton = { missing: err.message };
    }
    const base = draftUpdate(facts, skeleton);
    const llm = this.#options.llm;
    if (!llm) return { ...base, facts };
    try {
      const answer = await chatCompletion(llm, llmMessages(facts, base.text), this.#fetch);
      const refusal = checkLlmAnswer(answer, facts);
      if (refusal) return { ...base, fallback_reason: `LLM draft not used: ${refusal}`, facts };
      return { text: answer.trim(), source: 'llm', skeleton: base.skeleton, facts };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.#log.warn({ incidentId: id, reason }, 'LLM draft failed; using the template draft');
      return { ...base, fallback_reason: `LLM draft not used: ${reason}`, facts };
    }
  }
}

/** Component statuses an event records for this incident (declaration, updates, detection). */
function componentsOf(e: incidentsRepo.TimelineEvent): Array<{ id: string; status: ComponentStatus }> {
  const data = e.data as Record<string, unknown>;
  if (e.type === 'incident.declared') {
    return ((data.components as Array<{ id: string; status: ComponentStatus }> | undefined) ?? []).map((c) => ({
      id: c.id,
      status: c.status,
    }));
  }
  if (e.type === UPDATE_EVENT || e.type === 'detection.signal' || e.type === 'detection.recovered') {
    const list = (data.affected_components ?? data.components) as Array<{ id: string; new_status: ComponentStatus }> | undefined;
    return (list ?? []).filter((c) => c.new_status).map((c) => ({ id: c.id, status: c.new_status }));
  }
  return [];
}
