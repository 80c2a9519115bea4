import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { can, isRole } from '../app/roles.js';
import type { Router } from '../app/router.js';
import { parseInput } from '../app/validation.js';
import type { AuthService } from '../auth/auth.service.js';
import type { SafeHtml } from '../console/html.js';
import { sendPage } from '../console/layout.js';
import { AppError } from '../core/errors.js';
import type { BroadcastService } from '../status/broadcast.service.js';
import type { CadenceView } from '../status/cadence/cadence.service.js';
import { ComposePreview, Countdowns, type CountdownView } from '../status/compose.pages.js';
import { DRAFT_STATUSES, type DraftStatus } from '../status/drafter/drafter.js';
import type { ComponentService } from './components.service.js';
import { type DeclareFormValues, DeclarePage, IncidentListPage, IncidentPage } from './incidents.pages.js';
import { declareSchema, updateSchema } from './incidents.routes.js';
import type { IncidentService, UpdateInput } from './incidents.service.js';

const isDraftStatus = (s: string): s is DraftStatus => (DRAFT_STATUSES as readonly string[]).includes(s);

const formBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
type Form = z.output<typeof formBody>;
const html = { 200: { description: 'HTML page', contentType: 'text/html' } };
const idParams = z.object({ id: z.string().min(1) });

function field(form: Form, name: string): string {
  const v = form[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** `component_<id>` selects: the components given a status in the form. */
function componentChoices(form: Form): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(form)) {
    if (key.startsWith('component_') && field(form, key) !== '') out[key.slice('component_'.length)] = field(form, key);
  }
  return out;
}

function declareValues(form: Form): DeclareFormValues {
  return {
    name: field(form, 'name'),
    message: field(form, 'message'),
    impact: field(form, 'impact'),
    status: field(form, 'status'),
    commander: field(form, 'commander'),
    scopeKind: field(form, 'scope_kind'),
    regions: field(form, 'regions'),
    drill: field(form, 'drill') === '1',
    components: componentChoices(form),
  };
}

function messageOf(err: unknown): string | null {
  if (!(err instanceof AppError) || err.status >= 500) return null;
  return err.message;
}

/** What the status feature adds to the incident page: the composer's preview, drafts and deadlines. */
export interface ComposerDeps {
  broadcast?: Pick<BroadcastService, 'preview' | 'publish'>;
  drafter?: { draft(id: string, status?: DraftStatus): Promise<{ text: string; source: string; fallback_reason?: string }> };
  cadence?: { forIncident(id: string): Promise<CadenceView> };
  clock?: { now(): number };
}

export function registerIncidentConsole(
  r: Router,
  deps: { incidents: IncidentService; components: ComponentService; auth: AuthService } & ComposerDeps,
): void {
  const publish = (actor: Actor, id: string, input: UpdateInput) =>
    deps.broadcast ? deps.broadcast.publish(actor, id, input) : deps.incidents.postUpdate(actor, id, input);

  const deadlines = async (id: string) => {
    if (!deps.cadence) return undefined;
    const c = await deps.cadence.forIncident(id);
    if (!c.open) return Countdowns({ items: [], now: 0, figures: c.figures });
    const items: CountdownView[] = [];
    if (c.acknowledged_at === null)
      items.push({ label: 'Acknowledge publicly by', at: Date.parse(c.acknowledge_by), overdue: c.overdue });
    else {
      if (c.next_update_due_at)
        items.push({ label: 'Next update due (target)', at: Date.parse(c.next_update_due_at), overdue: false });
      if (c.promised_by) items.push({ label: 'Promised to buyers by', at: Date.parse(c.promised_by), overdue: c.overdue });
    }
    return Countdowns({ items, now: deps.clock?.now() ?? Date.now(), figures: c.figures });
  };

  /** The update the form describes (validated like the API's). */
  const formUpdate = (body: Form): UpdateInput =>
    parseInput(
      updateSchema,
      {
        status: field(body, 'status') || undefined,
        impact: field(body, 'impact') || undefined,
        message: field(body, 'message'),
        components: Object.entries(componentChoices(body)).map(([id, status]) => ({ id, status })),
      },
      'body',
    );

  const commanders = async () =>
    (await deps.auth.listUsers()).filter((u) => !u.disabled && isRole(u.role) && can(u.role, 'incidents.declare'));

  const renderIncident = async (
    actor: Actor,
    id: string,
    extra: {
      error?: string;
      notice?: string;
      values?: { message?: string; status?: string };
      preview?: SafeHtml;
    } = {},
  ) =>
    IncidentPage({
      actor,
      detail: await deps.incidents.get(id),
      events: await deps.incidents.timeline(id),
      allComponents: await deps.components.list(),
      deadlines: await deadlines(id),
      ...extra,
    });

  r.route({
    method: 'GET',
    url: '/console/incidents',
    summary: 'Incidents page',
    tags: ['console'],
    access: 'incidents.read',
    page: true,
    query: z.object({ state: z.enum(['open', 'all']).default('open') }),
    responses: html,
    async handler({ query, actor, reply }) {
      const list = await deps.incidents.list({ limit: 200, ...(query.state === 'open' && { open: true }) });
      return sendPage(reply, IncidentListPage({ actor, incidents: list, state: query.state }));
    },
  });

  r.route({
    method: 'GET',
    url: '/console/incidents/new',
    summary: 'Declare-incident form',
    tags: ['console'],
    access: 'incidents.declare',
    page: true,
    responses: html,
    async handler({ actor, reply }) {
      return sendPage(reply, DeclarePage({ actor, components: await deps.components.list(), commanders: await commanders() }));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents',
    summary: 'Declare an incident from the console form',
    tags: ['console'],
    access: 'incidents.declare',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: {
      303: { description: 'Declared: redirect to the incident' },
      400: { description: 'The form again, with the problem', contentType: 'text/html' },
    },
    async handler({ body, actor, reply }) {
      const values = declareValues(body);
      try {
        const regions = (values.regions ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const input = parseInput(
          declareSchema,
          {
            name: values.name,
            status: values.status || undefined,
            impact: values.impact || undefined,
            message: values.message || undefined,
            commander: values.commander || undefined,
            scope: values.scopeKind === 'regions' ? regions : 'global',
            drill: values.drill,
            components: Object.entries(values.components ?? {}).map(([id, status]) => ({ id, status })),
          },
          'body',
        );
        const detail = await deps.incidents.declare(actor, input);
        return reply.redirect(`/console/incidents/${detail.incident.id}`, 303);
      } catch (err) {
        const message = messageOf(err);
        if (message === null) throw err;
        const page = DeclarePage({
          actor,
          components: await deps.components.list(),
          commanders: await commanders(),
          values,
          error: message,
        });
        return sendPage(reply, page, (err as AppError).status);
      }
    },
  });

  r.route({
    method: 'GET',
    url: '/console/incidents/:id',
    summary: 'Incident page: facts, update form and timeline',
    tags: ['console'],
    access: 'incidents.read',
    page: true,
    params: idParams,
    query: z.object({ done: z.enum(['update', 'note']).optional() }),
    responses: html,
    async handler({ params, query, actor, reply }) {
      const notice = query.done === 'update' ? 'Update published.' : query.done === 'note' ? 'Note added.' : undefined;
      return sendPage(reply, await renderIncident(actor, params.id, notice ? { notice } : {}));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents/:id/updates',
    summary: 'Publish an update from the console form',
    tags: ['console'],
    access: 'incidents.update',
    page: true,
    params: idParams,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: {
      303: { description: 'Published: back to the incident' },
      409: { description: 'The page again, with the reason', contentType: 'text/html' },
    },
    async handler({ params, body, actor, reply }) {
      const values = { message: field(body, 'message'), status: field(body, 'status') };
      let input: UpdateInput | undefined;
      try {
        input = formUpdate(body);
        await publish(actor, params.id, input);
        return reply.redirect(`/console/incidents/${params.id}?done=update#timeline`, 303);
      } catch (err) {
        const message = messageOf(err);
        if (message === null || (err as AppError).status === 404) throw err;
        // Refused as inconsistent: show every surface so the commander sees what disagrees.
        const broadcast = (err as AppError).code === 'inconsistent_update' ? deps.broadcast : undefined;
        const preview = broadcast && input ? ComposePreview({ preview: await broadcast.preview(params.id, input) }) : undefined;
        const page = await renderIncident(actor, params.id, { error: message, values, ...(preview && { preview }) });
        return sendPage(reply, page, (err as AppError).status);
      }
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents/:id/preview',
    summary: 'The composer: what the update in the form would say on every surface (nothing is published)',
    tags: ['console'],
    access: 'incidents.update',
    page: true,
    params: idParams,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: { ...html, 422: { description: 'The page again, with the reason', contentType: 'text/html' } },
    async handler({ params, body, actor, reply }) {
      const values = { message: field(body, 'message'), status: field(body, 'status') };
      try {
        const input = formUpdate(body);
        if (!deps.broadcast) return sendPage(reply, await renderIncident(actor, params.id, { values }));
        const preview = ComposePreview({ preview: await deps.broadcast.preview(params.id, input) });
        return sendPage(reply, await renderIncident(actor, params.id, { values, preview }));
      } catch (err) {
        const message = messageOf(err);
        if (message === null || (err as AppError).status === 404) throw err;
        return sendPage(reply, await renderIncident(actor, params.id, { error: message, values }), (err as AppError).status);
      }
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents/:id/draft',
    summary: 'The composer: fill the update form with a draft written from the incident facts (nothing is published)',
    tags: ['console'],
    access: 'incidents.update',
    page: true,
    params: idParams,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: html,
    async handler({ params, body, actor, reply }) {
      const status = field(body, 'status');
      if (!deps.drafter) return sendPage(reply, await renderIncident(actor, params.id, { values: { status } }));
      const draft = await deps.drafter.draft(params.id, isDraftStatus(status) ? status : undefined);
      const notice =
        draft.source === 'llm'
          ? 'Draft written by the language model from the incident facts: review it, then publish.'
          : `Draft written from the approved skeletons${draft.fallback_reason ? ` (${draft.fallback_reason})` : ''}: review it, then publish.`;
      return sendPage(reply, await renderIncident(actor, params.id, { notice, values: { message: draft.text, status } }));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents/:id/notes',
    summary: 'Add an internal note from the console form',
    tags: ['console'],
    access: 'incidents.note',
    page: true,
    params: idParams,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: { 303: { description: 'Added: back to the incident' } },
    async handler({ params, body, actor, reply }) {
      try {
        await deps.incidents.addNote(actor, params.id, field(body, 'message'));
        return reply.redirect(`/console/incidents/${params.id}?done=note#timeline`, 303);
      } catch (err) {
        const message = messageOf(err);
        if (message === null || (err as AppError).status === 404) throw err;
        return sendPage(reply, await renderIncident(actor, params.id, { error: message }), (err as AppError).status);
      }
    },
  });
}
