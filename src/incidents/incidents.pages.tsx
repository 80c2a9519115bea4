import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import type { UserView } from '../auth/auth.service.js';
import { Fragment, h, type SafeHtml } from '../console/html.js';
import { Badge, CsrfField, Layout, Notice, Time } from '../console/layout.js';
import type { Component } from './components.repo.js';
import {
  COMPONENT_STATUS_LABELS,
  COMPONENT_STATUSES,
  checkTransition,
  describeScope,
  IMPACTS,
  INCIDENT_STATUSES,
  isOpen,
  OPEN_STATUSES,
  STATUS_LABELS,
} from './incident.js';
import type { IncidentRecord, TimelineEvent } from './incidents.repo.js';
import type { IncidentDetail, PublishedUpdate } from './incidents.service.js';
import {
  ChecklistPanel,
  DeliveryPanel,
  DrillNotice,
  FallbackPanel,
  HealthPanel,
  RolesPanel,
  RoomNav,
  TierPanel,
} from './room/room.pages.js';
import type { RoomView } from './room/room.service.js';

export function IncidentListPage(props: { actor: Actor; incidents: IncidentRecord[]; state: string }): SafeHtml {
  const { actor } = props;
  return (
    <Layout title="Incidents" actor={actor} active="/console/incidents">
      <div class="row">
        <h1>Incidents</h1>
        {can(actor.role, 'incidents.declare') ? (
          <div class="shrink">
            <a class="button" href="/console/incidents/new">
              Declare incident
            </a>
          </div>
        ) : null}
      </div>
      <p>
        Show:{' '}
        {(['open', 'all'] as const).map((s) => (
          <span>{props.state === s ? <strong>{s}</strong> : <a href={`/console/incidents?state=${s}`}>{s}</a>} </span>
        ))}
      </p>
      {props.incidents.length === 0 ? (
        <div class="panel">{props.state === 'open' ? 'No open incidents. All quiet.' : 'No incidents yet.'}</div>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Incident</th>
              <th scope="col">Status</th>
              <th scope="col">Impact</th>
              <th scope="col">Declared</th>
              <th scope="col">Acknowledged</th>
            </tr>
          </thead>
          <tbody>
            {props.incidents.map((i) => (
              <tr>
                <td>
                  <a href={`/console/incidents/${i.id}`}>{i.name}</a> {i.drill ? <span class="badge drill">drill</span> : null}
                  <div class="muted">{describeScope(i.scope)}</div>
                </td>
                <td>
                  <Badge value={i.status} label={STATUS_LABELS[i.status]} />
                </td>
                <td>
                  <Badge value={i.impact} prefix="i" />
                </td>
                <td>
                  <Time at={i.declaredAt} />
                </td>
                <td>{i.acknowledgedAt === null ? <strong>not yet</strong> : <Time at={i.acknowledgedAt} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

export interface DeclareFormValues {
  name?: string;
  message?: string;
  impact?: string;
  status?: string;
  commander?: string;
  scopeKind?: string;
  regions?: string;
  drill?: boolean;
  components?: Record<string, string>;
}

export function DeclarePage(props: {
  actor: Actor;
  components: Component[];
  commanders: UserView[];
  values?: DeclareFormValues;
  error?: string;
}): SafeHtml {
  const v = props.values ?? {};
  return (
    <Layout title="Declare incident" actor={props.actor} active="/console/incidents">
      <h1>Declare an incident</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form method="post" action="/console/incidents" class="panel">
        <CsrfField actor={props.actor} />
        <label for="name">Name</label>
        <input
          id="name"
          name="name"
          type="text"
          required
          maxlength="300"
          value={v.name ?? ''}
          placeholder="Product pages unavailable"
        />

        <fieldset>
          <legend>Affected components</legend>
          {props.components.length === 0 ? <p class="muted">No components yet. Add them under Components.</p> : null}
          {props.components.map((c) => (
            <div class="component-choice">
              <label for={`component_${c.id}`}>
                {c.name} <span class="muted">({c.kind})</span>
              </label>
              <select id={`component_${c.id}`} name={`component_${c.id}`}>
                <option value="">Not affected</option>
                {COMPONENT_STATUSES.filter((s) => s !== 'operational').map((s) => (
                  <option value={s} selected={v.components?.[c.id] === s}>
                    {COMPONENT_STATUS_LABELS[s]}
                  </option>
                ))}
              </select>
            </div>
          ))}
        </fieldset>

        <div class="row">
          <div>
            <label for="status">Status</label>
            <select id="status" name="status">
              {OPEN_STATUSES.map((s) => (
                <option value={s} selected={v.status === s}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="impact">Impact</label>
            <select id="impact" name="impact">
              <option value="">From the component statuses</option>
              {IMPACTS.map((i) => (
                <option value={i} selected={v.impact === i}>
                  {i}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="commander">Commander</label>
            <select id="commander" name="commander">
              {props.commanders.map((u) => (
                <option value={u.id} selected={(v.commander ?? props.actor.id) === u.id}>
                  {u.name} ({u.role})
                </option>
              ))}
            </select>
          </div>
        </div>

        <fieldset>
          <legend>Scope</legend>
          <label>
            <input type="radio" name="scope_kind" value="global" checked={v.scopeKind !== 'regions'} /> Global
          </label>
          <label>
            <input type="radio" name="scope_kind" value="regions" checked={v.scopeKind === 'regions'} /> Some regions:
          </label>
          <input
            type="text"
            name="regions"
            aria-label="Regions, separated by commas"
            value={v.regions ?? ''}
            placeholder="eu-west, us-east"
          />
        </fieldset>

        <label for="message">
          First public update{' '}
          <span class="hint">(publishing it acknowledges the incident; leave empty to acknowledge later)</span>
        </label>
        <textarea id="message" name="message">
          {v.message ?? ''}
        </textarea>

        <label>
          <input type="checkbox" name="drill" value="1" checked={v.drill === true} /> This is a drill
        </label>

        <div class="actions">
          <button type="submit">Declare incident</button>
          <a href="/console/incidents">Cancel</a>
        </div>
      </form>
    </Layout>
  );
}

const EVENT_LABELS: Record<string, string> = {
  'incident.declared': 'Incident declared',
  'update.published': 'Public update',
  'note.added': 'Note',
  'incident.role_assigned': 'Role',
  'playbook.checklist_done': 'Checklist',
  'playbook.checklist_overdue': 'Checklist overdue',
  'playbook.action': 'Playbook',
};

/** One timeline entry as plain text (the live stream's payload; the browser shows it with textContent). */
export function timelineEntry(e: TimelineEvent): {
  id: string;
  type: string;
  label: string;
  at: string;
  actor: string;
  public: boolean;
  text: string;
} {
  let text: string;
  if (e.type === 'update.published') {
    const u = e.data as unknown as PublishedUpdate;
    const comps = u.affected_components
      .map((a) => `${a.name}: ${COMPONENT_STATUS_LABELS[a.old_status]} → ${COMPONENT_STATUS_LABELS[a.new_status]}`)
      .join('; ');
    text = `${STATUS_LABELS[u.status] ?? u.status}: ${u.message}${comps ? `\n${comps}` : ''}`;
  } else if (e.type === 'incident.declared') {
    const comps = (e.data.components as Array<{ name?: string; status: string }> | undefined) ?? [];
    text = `${String(e.data.name ?? '')}${comps.length > 0 ? ` — ${comps.map((c) => `${c.name ?? '?'}: ${c.status.replaceAll('_', ' ')}`).join(', ')}` : ''}`;
  } else if (typeof e.data.summary === 'string') text = e.data.summary;
  else if (typeof e.data.message === 'string') text = e.data.message;
  else text = JSON.stringify(e.data);
  return {
    id: e.id,
    type: e.type,
    label: EVENT_LABELS[e.type] ?? e.type,
    at: new Date(e.at).toISOString(),
    actor: e.actor.name ?? e.actor.type,
    public: e.public,
    text,
  };
}

function eventBody(e: TimelineEvent): SafeHtml | string {
  if (e.type === 'update.published') {
    const u = e.data as unknown as PublishedUpdate;
    return (
      <div>
        <Badge value={u.status} label={STATUS_LABELS[u.status]} />
        {u.previous_status && u.previous_status !== u.status ? (
          <span class="muted"> (was {STATUS_LABELS[u.previous_status]})</span>
        ) : null}
        <div class="body">{u.message}</div>
        {u.affected_components.length > 0 ? (
          <div class="muted">
            {u.affected_components
              .map((a) => `${a.name}: ${COMPONENT_STATUS_LABELS[a.old_status]} → ${COMPONENT_STATUS_LABELS[a.new_status]}`)
              .join('; ')}
          </div>
        ) : null}
      </div>
    );
  }
  if (e.type === 'note.added') return <div class="body">{String(e.data.message ?? '')}</div>;
  if (typeof e.data.summary === 'string') return <div class="body">{e.data.summary}</div>;
  if (e.type === 'incident.declared') {
    const comps = (e.data.components as Array<{ name?: string; status: string }> | undefined) ?? [];
    return (
      <div class="body">
        {String(e.data.name ?? '')}
        {comps.length > 0 ? ` — ${comps.map((c) => `${c.name ?? '?'}: ${c.status.replaceAll('_', ' ')}`).join(', ')}` : ''}
      </div>
    );
  }
  return <pre class="body">{JSON.stringify(e.data, null, 2)}</pre>;
}

export function Timeline({ events }: { events: TimelineEvent[] }): SafeHtml {
  return (
    <ol class="timeline" reversed>
      {[...events].reverse().map((e) => (
        <li class={e.public ? 'public' : undefined} data-event-type={e.type} data-event-id={e.id}>
          <div class="meta">
            <strong>{EVENT_LABELS[e.type] ?? e.type}</strong> · <Time at={e.at} /> · {e.actor.name ?? e.actor.type}
            {e.public ? ' · public' : ' · internal'}
          </div>
          {eventBody(e)}
        </li>
      ))}
    </ol>
  );
}

function minutesBetween(a: number, b: number | null): string {
  if (b === null) return '—';
  const m = Math.round((b - a) / 60_000);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function IncidentPage(props: {
  actor: Actor;
  detail: IncidentDetail;
  events: TimelineEvent[];
  allComponents: Component[];
  error?: string;
  notice?: string;
  values?: { message?: string; status?: string };
  /** Update deadlines (the cadence), shown with the facts. */
  deadlines?: SafeHtml | undefined;
  /** What the composed update would say on every surface (after "Preview"). */
  preview?: SafeHtml | undefined;
  /** The incident room's panels (roles, checklist, tier queues, delivery, health, fallback). */
  room?: RoomView | undefined;
}): SafeHtml {
  const { actor, detail } = props;
  const i = detail.incident;
  const nextStatuses = INCIDENT_STATUSES.filter((s) => (s === i.status ? isOpen(s) : checkTransition(i.status, s).ok));
  const inIncident = new Map(detail.components.map((c) => [c.component.id, c.status]));
  const others = props.allComponents.filter((c) => !inIncident.has(c.id));
  const room = props.room;
  const lastEvent = props.events.at(-1)?.id;
  return (
    <Layout title={i.name} actor={actor} active="/console/incidents">
      <p>
        <a href="/console/incidents">← Incidents</a> ·{' '}
        <a href={`/console/incidents/${encodeURIComponent(i.id)}/report`} id="incident-report-link">
          Incident report
        </a>
      </p>
      <h1>
        {i.name} {i.drill ? <span class="badge drill">drill</span> : null}
      </h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {room ? <RoomNav /> : null}
      {i.drill ? <DrillNotice drill={room?.drill ?? null} /> : null}
      <div class="panel" data-live="facts" id="facts">
        <p>
          <Badge value={i.status} label={STATUS_LABELS[i.status]} />{' '}
          <Badge value={i.impact} prefix="i" label={`impact: ${i.impact}`} />{' '}
          <span class="muted">Scope: {describeScope(i.scope)}</span>
        </p>
        {props.deadlines ?? null}
        <dl class="facts">
          <dt>Commander</dt>
          <dd>{detail.commander ? `${detail.commander.name} (${detail.commander.email})` : 'not assigned'}</dd>
          <dt>Started</dt>
          <dd>
            <Time at={i.startedAt} />
          </dd>
          <dt>Detected</dt>
          <dd>
            <Time at={i.detectedAt} />
          </dd>
          <dt>Declared</dt>
          <dd>
            <Time at={i.declaredAt} />
          </dd>
          <dt>Acknowledged</dt>
          <dd>
            {i.acknowledgedAt === null ? <strong>not yet — publish the first update</strong> : <Time at={i.acknowledgedAt} />}
            {i.acknowledgedAt !== null ? (
              <span class="muted"> ({minutesBetween(i.declaredAt, i.acknowledgedAt)} after declaration)</span>
            ) : null}
          </dd>
          <dt>Monitoring since</dt>
          <dd>
            <Time at={i.monitoringAt} />
          </dd>
          <dt>Resolved</dt>
          <dd>
            <Time at={i.resolvedAt} />
            {i.resolvedAt !== null ? <span class="muted"> (duration {minutesBetween(i.startedAt, i.resolvedAt)})</span> : null}
          </dd>
        </dl>
        <h2>Components</h2>
        {detail.components.length === 0 ? (
          <p class="muted">None named.</p>
        ) : (
          <ul>
            {detail.components.map((c) => (
              <li>
                {c.component.name}: <Badge value={c.status} label={COMPONENT_STATUS_LABELS[c.status]} />
              </li>
            ))}
          </ul>
        )}
      </div>

      {room ? (
        <div class="room-grid">
          <RolesPanel actor={actor} incidentId={i.id} view={room} />
          <ChecklistPanel actor={actor} incidentId={i.id} checklist={room.checklist} now={room.now} />
        </div>
      ) : null}

      {can(actor.role, 'incidents.update') && nextStatuses.length > 0 ? (
        <form method="post" action={`/console/incidents/${i.id}/updates`} class="panel" id="composer">
          <h2>Post an update</h2>
          <CsrfField actor={actor} />
          <div class="row">
            <div>
              <label for="update-status">Status</label>
              <select id="update-status" name="status">
                {nextStatuses.map((s) => (
                  <option value={s} selected={(props.values?.status ?? i.status) === s}>
                    {STATUS_LABELS[s]}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="update-impact">Impact</label>
              <select id="update-impact" name="impact">
                {IMPACTS.map((x) => (
                  <option value={x} selected={i.impact === x}>
                    {x}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <label for="update-message">Message</label>
          <textarea id="update-message" name="message" required>
            {props.values?.message ?? ''}
          </textarea>
          <fieldset>
            <legend>Component statuses</legend>
            {[
              ...detail.components.map((c) => ({ component: c.component, current: c.status as string | null })),
              ...others.map((c) => ({ component: c, current: null })),
            ].map(({ component, current }) => (
              <div class="component-choice">
                <label for={`ucomp_${component.id}`}>
                  {component.name}
                  {current ? '' : ' (not in this incident)'}
                </label>
                <select id={`ucomp_${component.id}`} name={`component_${component.id}`}>
                  <option value="">{current ? `No change (${current.replaceAll('_', ' ')})` : 'Not affected'}</option>
                  {COMPONENT_STATUSES.map((s) => (
                    <option value={s}>{COMPONENT_STATUS_LABELS[s]}</option>
                  ))}
                </select>
              </div>
            ))}
            <p class="hint">Resolving returns every component of the incident to operational unless you choose otherwise.</p>
          </fieldset>
          <div class="actions">
            <button type="submit">Publish everywhere</button>
            <button type="submit" class="secondary" formaction={`/console/incidents/${i.id}/preview#preview`}>
              Preview on every channel
            </button>
            <button type="submit" class="secondary" formaction={`/console/incidents/${i.id}/draft`} formnovalidate>
              Draft for me
            </button>
          </div>
          <p class="hint">
            One update goes to the status page, its feeds, the showroom banner, subscribers, internal Slack and social (where
            configured). Drafts are never published without your click.
          </p>
        </form>
      ) : null}
      {props.preview ?? null}

      {can(actor.role, 'incidents.note') ? (
        <form method="post" action={`/console/incidents/${i.id}/notes`} class="panel" id="note">
          <h2>Add an internal note</h2>
          <CsrfField actor={actor} />
          <label for="note-message">Note (never public)</label>
          <textarea id="note-message" name="message" required></textarea>
          <div class="actions">
            <button type="submit" class="secondary">
              Add note
            </button>
          </div>
        </form>
      ) : null}

      <h2 id="timeline">Timeline</h2>
      <div
        class="panel"
        data-live="timeline"
        data-stream={room ? `/console/incidents/${encodeURIComponent(i.id)}/stream` : undefined}
        data-last-event={room ? (lastEvent ?? '') : undefined}
      >
        <Timeline events={props.events} />
      </div>
      {room ? (
        <>
          <p class="hint" data-stream-state="" hidden>
            Live
          </p>
          <div class="sr-only" aria-live="polite" data-announce=""></div>
          <div class="room-grid">
            <TierPanel incidentId={i.id} view={room} />
            <DeliveryPanel view={room} />
          </div>
          <HealthPanel view={room} />
          <FallbackPanel view={room} />
        </>
      ) : null}
    </Layout>
  );
}
