import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { can, isRole } from '../app/roles.js';
import type { Router } from '../app/router.js';
import { parseInput } from '../app/validation.js';
import type { AuthService } from '../auth/auth.service.js';
import type { SafeHtml } from '../console/html.js';
import { sendPage } from '../console/layout.js';
import type { Bus } from '../core/bus.js';
import { AppError, forbidden } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { healthBoardRows } from '../detection/detection.console.js';
import type { BroadcastService } from '../status/broadcast.service.js';
import type { CadenceView } from '../status/cadence/cadence.service.js';
import { ComposePreview, Countdowns, type CountdownView } from '../status/compose.pages.js';
import { DRAFT_STATUSES, type DraftStatus } from '../status/drafter/drafter.js';
import type { ComponentService } from './components.service.js';
import { type DeclareFormValues, DeclarePage, IncidentListPage, IncidentPage, timelineEntry } from './incidents.pages.js';
import { declareSchema, updateSchema } from './incidents.routes.js';
import type { IncidentService, UpdateInput } from './incidents.service.js';
import { isRoomRole, ROOM_ROLES } from './room/room.repo.js';
import { IncidentRoomService, type RoomDeps } from './room/room.service.js';
import { type StreamOptions, TimelineStreams } from './room/room.stream.js';

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

const DONE_NOTICES = {
  update: 'Update published.',
  note: 'Note added.',
  role: 'Role assigned.',
  checklist: 'Checklist item done.',
} as const;

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

/** What the incident room adds: its panels' sources and the live timeline (absent: the plain incident page). */
export interface RoomConsoleDeps {
  db?: Database;
  bus?: Bus;
  playbook?: RoomDeps['playbook'];
  flags?: RoomDeps['flags'];
  mirror?: RoomDeps['mirror'];
  statusSite?: RoomDeps['statusSite'];
  /** Live stream limits (tests shorten them). */
  streamOptions?: Partial<StreamOptions>;
}

export function registerIncidentConsole(
  r: Router,
  deps: { incidents: IncidentService; components: ComponentService; auth: AuthService } & ComposerDeps & RoomConsoleDeps,
): void {
  const { db, bus } = deps;
  const room =
    db && bus
      ? new IncidentRoomService({
          db,
          bus,
          clock: deps.clock ?? { now: () => Date.now() },
          auth: deps.auth,
          ...(deps.playbook && { playbook: deps.playbook }),
          ...(deps.flags && { flags: deps.flags }),
          ...(deps.mirror && { mirror: deps.mirror }),
          ...(deps.statusSite && { statusSite: deps.statusSite }),
          health: async (ids) => (await healthBoardRows({ db, clock: deps.clock ?? { now: () => Date.now() } }, ids)).rows,
        })
      : undefined;
  const streams =
    db && bus
      ? new TimelineStreams({ db, bus, toData: timelineEntry, ...(deps.streamOptions && { options: deps.streamOptions }) })
      : undefined;
  if (streams) r.app.addHook('preClose', async () => streams.closeAll());

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
  ) => {
    const detail = await deps.incidents.get(id);
    return IncidentPage({
      actor,
      detail,
      events: await deps.incidents.timeline(id),
      allComponents: await deps.components.list(),
      deadlines: await deadlines(id),
      ...(room && { room: await room.view(id, new Set(detail.components.map((c) => c.component.id))) }),
      ...extra,
    });
  };

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
    query: z.object({ done: z.enum(['update', 'note', 'role', 'checklist']).optional() }),
    responses: html,
    async handler({ params, query, actor, reply }) {
      const notice = query.done ? DONE_NOTICES[query.done] : undefined;
      return sendPage(reply, await renderIncident(actor, params.id, notice ? { notice } : {}));
    },
  });

  if (streams) {
    r.route({
      method: 'GET',
      url: '/console/incidents/:id/stream',
      summary: "The incident room's live timeline (server-sent events)",
      description:
        'text/event-stream: every timeline entry as an event named `timeline` whose id is the entry id (the timeline order) and ' +
        'whose data is JSON {id, type, label, at, actor, public, text}; `panels` when something else the room shows changed ' +
        '(deliveries); a comment line as heartbeat. Without Last-Event-ID (header, or the last_event_id query parameter) it ' +
        'sends the whole timeline first, else only what came after that id. Needs a signed-in session; a few streams per person.',
      tags: ['console'],
      access: 'incidents.read',
      params: idParams,
      query: z.object({ last_event_id: z.string().max(100).optional() }),
      responses: {
        200: { description: 'The event stream', contentType: 'text/event-stream' },
        404: { description: 'No such incident' },
        429: { description: 'Too many open streams for this person' },
      },
      async handler({ params, query, req, actor, reply }) {
        if (!actor.csrfToken)
          throw forbidden(
            'session_required',
            'The live timeline is for console sessions; API clients read /api/v1/incidents/{id}.',
          );
        await deps.incidents.get(params.id);
        const header = req.headers['last-event-id'];
        const last = (typeof header === 'string' && header.trim()) || query.last_event_id?.trim() || null;
        await streams.serve(reply, actor, params.id, last);
        return reply;
      },
    });
  }

  if (room) {
    r.route({
      method: 'POST',
      url: '/console/incidents/:id/roles',
      summary: 'The incident room: give a role (commander, communications lead, sales lead) to a person',
      description:
        'Form fields: role (commander | communications | sales) and user (a user id; empty clears a lead). Audited and on the timeline.',
      tags: ['console'],
      access: 'incidents.declare',
      page: true,
      params: idParams,
      bodyContentType: 'application/x-www-form-urlencoded',
      body: formBody,
      responses: {
        303: { description: 'Assigned: back to the room' },
        400: { description: 'The room again, with the problem', contentType: 'text/html' },
        422: { description: 'The room again, with the problem', contentType: 'text/html' },
      },
      async handler({ params, body, actor, reply }) {
        try {
          const role = field(body, 'role');
          if (!isRoomRole(role)) {
            throw new AppError(400, 'invalid_role', `role must be one of ${ROOM_ROLES.join(', ')}.`, { field: 'role' });
          }
          await room.assignRole(actor, params.id, role, field(body, 'user').trim() || null);
          return reply.redirect(`/console/incidents/${params.id}?done=role#roles`, 303);
        } catch (err) {
          const message = messageOf(err);
          if (message === null || (err as AppError).status === 404) throw err;
          return sendPage(reply, await renderIncident(actor, params.id, { error: message }), (err as AppError).status);
        }
      },
    });
  }

  if (room?.playbook) {
    const playbook = room.playbook;
    r.route({
      method: 'POST',
      url: '/console/incidents/:id/checklist/:item',
      summary: 'The incident room: complete a checklist item (records who and when)',
      tags: ['console'],
      access: 'incidents.note',
      page: true,
      params: z.object({ id: z.string().min(1), item: z.string().min(1) }),
      bodyContentType: 'application/x-www-form-urlencoded',
      body: formBody,
      responses: {
        303: { description: 'Done: back to the room' },
        409: { description: 'The room again: someone got there first', contentType: 'text/html' },
        422: { description: 'The room again: no such item', contentType: 'text/html' },
      },
      async handler({ params, body, actor, reply }) {
        try {
          await playbook.complete(actor, params.id, params.item, field(body, 'note') || undefined);
          return reply.redirect(`/console/incidents/${params.id}?done=checklist#checklist`, 303);
        } catch (err) {
          const message = messageOf(err);
          if (message === null || (err as AppError).status === 404) throw err;
          return sendPage(reply, await renderIncident(actor, params.id, { error: message }), (err as AppError).status);
        }
      },
    });
  }

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
