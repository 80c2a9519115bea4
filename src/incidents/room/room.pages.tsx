import type { Actor } from '../../app/actor.js';
import { can } from '../../app/roles.js';
import { Fragment, h, type SafeHtml } from '../../console/html.js';
import { CsrfField, Time } from '../../console/layout.js';
import { TIER_LABELS, TIERS } from '../../crm/console/crm.pages.js';
import { BoardTable } from '../../detection/detection.pages.js';
import { MESSAGE_STATUSES } from '../../messaging/messaging.js';
import type { ChecklistView } from '../../playbook/playbook.service.js';
import { ROOM_ROLE_LABELS, ROOM_ROLES } from './room.repo.js';
import type { RoomView } from './room.service.js';

/** The room's panels, in page order: skip links and `g <key>` shortcuts go to each. */
export const ROOM_PANELS: ReadonlyArray<{ id: string; label: string; key: string }> = [
  { id: 'facts', label: 'Facts and deadlines', key: 'f' },
  { id: 'roles', label: 'Roles', key: 'r' },
  { id: 'checklist', label: 'Checklist', key: 'c' },
  { id: 'composer', label: 'Composer', key: 'u' },
  { id: 'timeline', label: 'Timeline', key: 't' },
  { id: 'tiers', label: 'Tier queues', key: 'q' },
  { id: 'delivery', label: 'Delivery', key: 'd' },
  { id: 'health', label: 'Health', key: 'h' },
  { id: 'fallback', label: 'Fallback and flags', key: 'b' },
];

function failed(value: unknown): value is { error: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'error' in value;
}

function countdownText(at: number, now: number): string {
  const minutes = Math.round((at - now) / 60_000);
  return minutes >= 0 ? `in ${minutes} min` : `${-minutes} min overdue`;
}

/** Skip links to every panel, and the keyboard shortcuts (console.js implements them). */
export function RoomNav(): SafeHtml {
  return (
    <nav class="room-nav" aria-label="Incident room" data-shortcuts="">
      <ul>
        {ROOM_PANELS.map((p) => (
          <li>
            <a href={`#${p.id}`} data-key={p.key}>
              {p.label}
            </a>
          </li>
        ))}
      </ul>
      <details class="shortcuts">
        <summary>Keyboard shortcuts</summary>
        <p class="hint">Not while typing in a field. Tab and Shift+Tab reach every action.</p>
        <dl class="room-pairs">
          {ROOM_PANELS.map((p) =>
            p.key === 'u' ? null : (
              <>
                <dt>
                  <kbd>g</kbd> <kbd>{p.key}</kbd>
                </dt>
                <dd>go to {p.label.toLowerCase()}</dd>
              </>
            ),
          )}
          <dt>
            <kbd>u</kbd>
          </dt>
          <dd>write an update (the composer's message)</dd>
          <dt>
            <kbd>n</kbd>
          </dt>
          <dd>write an internal note</dd>
          <dt>
            <kbd>?</kbd>
          </dt>
          <dd>show or hide this list</dd>
        </dl>
      </details>
    </nav>
  );
}

export function DrillNotice({ drill }: { drill: RoomView['drill'] }): SafeHtml {
  return (
    <div class="panel drill-notice" data-drill="">
      <strong>Drill.</strong> This incident is practice: playbook actions on the live showroom are simulated and drill messages
      are marked as such.{' '}
      {drill ? (
        <a href={`/console/drills/${encodeURIComponent(drill.id)}`}>
          Drill {drill.scenario} ({drill.state})
        </a>
      ) : null}
    </div>
  );
}

export function RolesPanel(props: { actor: Actor; incidentId: string; view: RoomView }): SafeHtml {
  const { actor, view } = props;
  const held = new Map(view.roles.map((r) => [r.role, r]));
  const mayAssign = can(actor.role, 'incidents.declare');
  return (
    <section class="panel" id="roles" aria-labelledby="roles-h" data-live="roles">
      <h2 id="roles-h">Roles</h2>
      <dl class="room-pairs">
        {ROOM_ROLES.map((role) => {
          const r = held.get(role);
          return (
            <>
              <dt>{ROOM_ROLE_LABELS[role]}</dt>
              <dd data-role={role}>
                {r ? `${r.name} (${r.email})` : <span class="muted">nobody yet</span>}
                {r?.assignedAt ? (
                  <span class="muted">
                    {' '}
                    · since <Time at={r.assignedAt} /> by {r.assignedBy ?? 'someone'}
                  </span>
                ) : null}
              </dd>
            </>
          );
        })}
      </dl>
      {mayAssign ? (
        <div class="role-forms">
          {ROOM_ROLES.map((role) => (
            <form method="post" action={`/console/incidents/${props.incidentId}/roles`} class="inline-form">
              <CsrfField actor={actor} />
              <input type="hidden" name="role" value={role} />
              <label for={`role-${role}`}>{ROOM_ROLE_LABELS[role]}</label>
              <select id={`role-${role}`} name="user">
                {role === 'commander' ? null : <option value="">Nobody</option>}
                {view.candidates[role].map((u) => (
                  <option value={u.id} selected={held.get(role)?.userId === u.id}>
                    {u.name} ({u.role})
                  </option>
                ))}
              </select>
              <button type="submit" class="secondary" aria-label={`Assign ${ROOM_ROLE_LABELS[role].toLowerCase()}`}>
                Assign
              </button>
            </form>
          ))}
        </div>
      ) : null}
    </section>
  );
}

export function ChecklistPanel(props: {
  actor: Actor;
  incidentId: string;
  checklist: RoomView['checklist'];
  now: number;
}): SafeHtml {
  const { actor, checklist } = props;
  const mayComplete = can(actor.role, 'incidents.note');
  let body: SafeHtml;
  if (checklist === null) body = <p class="muted">No playbook in this installation.</p>;
  else if (failed(checklist)) body = <p class="muted">The checklist could not be read: {checklist.error}</p>;
  else if (checklist.items.length === 0) body = <p class="muted">The playbook gives this incident no checklist.</p>;
  else
    body = (
      <ChecklistTable
        actor={actor}
        incidentId={props.incidentId}
        checklist={checklist}
        now={props.now}
        mayComplete={mayComplete}
      />
    );
  return (
    <section class="panel" id="checklist" aria-labelledby="checklist-h" data-live="checklist">
      <h2 id="checklist-h">Checklist</h2>
      {body}
    </section>
  );
}

function ChecklistTable(props: {
  actor: Actor;
  incidentId: string;
  checklist: ChecklistView;
  now: number;
  mayComplete: boolean;
}): SafeHtml {
  const open = props.checklist.items.filter((i) => i.state === 'open').length;
  return (
    <>
      <p class="muted">
        {open} of {props.checklist.items.length} open
      </p>
      <table class="checklist">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Role</th>
            <th scope="col">Due</th>
            <th scope="col">Done</th>
          </tr>
        </thead>
        <tbody>
          {props.checklist.items.map((item) => {
            const due = item.due_at === null ? null : Date.parse(item.due_at);
            return (
              <tr class={item.state === 'done' ? 'done' : item.overdue ? 'overdue' : undefined} data-item={item.id}>
                <td>{item.title}</td>
                <td>{item.role}</td>
                <td>
                  {due === null ? (
                    <span class="muted">{item.due_from === 'resolved' ? 'after resolution' : '—'}</span>
                  ) : (
                    <>
                      <Time at={due} />
                      {item.state === 'open' ? (
                        <>
                          {' '}
                          <span data-countdown={String(due)}>{countdownText(due, props.now)}</span>
                        </>
                      ) : null}
                    </>
                  )}
                </td>
                <td>
                  {item.state === 'done' ? (
                    <>
                      ✓ {item.done_by?.name ?? 'someone'} · <Time at={item.done_at ? Date.parse(item.done_at) : null} />
                      {item.note ? <div class="muted">{item.note}</div> : null}
                    </>
                  ) : props.mayComplete ? (
                    <form
                      method="post"
                      action={`/console/incidents/${props.incidentId}/checklist/${encodeURIComponent(item.id)}`}
                    >
                      <CsrfField actor={props.actor} />
                      <button type="submit" class="secondary" aria-label={`Mark done: ${item.title}`}>
                        Mark done
                      </button>
                    </form>
                  ) : (
                    <span class="muted">open</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

export function TierPanel(props: { incidentId: string; view: RoomView }): SafeHtml {
  const { view } = props;
  const calls = view.tasks;
  return (
    <section class="panel" id="tiers" aria-labelledby="tiers-h" data-live="tiers">
      <h2 id="tiers-h">Tier queues</h2>
      <ul class="tier-counts">
        {TIERS.map((t) => (
          <li data-tier={t}>
            <a href={`/console/leads?incident=${encodeURIComponent(props.incidentId)}&tier=${t}`}>{TIER_LABELS[t]}</a>:{' '}
            <strong>{(view.tiers[t] ?? 0).toLocaleString('en-US')}</strong> leads
          </li>
        ))}
      </ul>
      <h3>Tier A calls</h3>
      <p class="muted" data-task-counts="">
        {calls.open} open · {calls.done} done
      </p>
      {calls.rows.length === 0 ? (
        <p class="muted">No call tasks for this incident (yet).</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Lead</th>
              <th scope="col">Owner</th>
              <th scope="col">Due</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {calls.rows.map((t) => (
              <tr data-task={t.id}>
                <td>
                  <a href={`/console/leads?incident=${encodeURIComponent(props.incidentId)}&tier=${t.lead.tier ?? 'A'}`}>
                    {t.lead.name}
                  </a>
                  {t.lead.company ? <div class="muted">{t.lead.company}</div> : null}
                </td>
                <td>{t.ownerName ?? <span class="muted">unassigned</span>}</td>
                <td>
                  <Time at={t.dueAt} />
                </td>
                <td>
                  {t.state}
                  {t.outcome ? ` (${t.outcome.replaceAll('_', ' ')})` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <a href="/console/tasks?owner=all">All tasks</a>
      </p>
    </section>
  );
}

/** The statuses shown as columns; the others (sending, bounced, dead) fold into the nearest. */
const DELIVERY_COLUMNS = ['queued', 'sent', 'delivered', 'failed', 'suppressed'] as const;
const FOLD: Record<string, (typeof DELIVERY_COLUMNS)[number]> = { sending: 'queued', bounced: 'failed', dead: 'failed' };

export function DeliveryPanel({ view }: { view: RoomView }): SafeHtml {
  const table = new Map<string, Record<string, number>>();
  for (const row of view.delivery) {
    const column = (DELIVERY_COLUMNS as readonly string[]).includes(row.status) ? row.status : (FOLD[row.status] ?? 'failed');
    const line = table.get(row.channel) ?? {};
    line[column] = (line[column] ?? 0) + row.n;
    table.set(row.channel, line);
  }
  const channels = [...table.keys()].sort();
  return (
    <section class="panel" id="delivery" aria-labelledby="delivery-h" data-live="delivery">
      <h2 id="delivery-h">Delivery</h2>
      {channels.length === 0 ? (
        <p class="muted">No messages for this incident yet.</p>
      ) : (
        <table class="figures">
          <thead>
            <tr>
              <th scope="col">Channel</th>
              {DELIVERY_COLUMNS.map((c) => (
                <th scope="col">{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {channels.map((ch) => (
              <tr data-channel={ch}>
                <th scope="row">{ch}</th>
                {DELIVERY_COLUMNS.map((c) => (
                  <td data-status={c}>{String(table.get(ch)?.[c] ?? 0)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">
        Sending counts as queued; bounced and dead as failed ({MESSAGE_STATUSES.join(', ')}). <a href="/console/outbox">Outbox</a>
      </p>
    </section>
  );
}

export function HealthPanel({ view }: { view: RoomView }): SafeHtml {
  return (
    <section class="panel" id="health" aria-labelledby="health-h" data-live="health">
      <h2 id="health-h">Health of the incident's components</h2>
      {failed(view.health) ? (
        <p class="muted">The health board could not be read: {view.health.error}</p>
      ) : view.health.length === 0 ? (
        <p class="muted">No components named in this incident.</p>
      ) : (
        <BoardTable rows={view.health} />
      )}
      <p>
        <a href="/console/health">Whole health board</a>
      </p>
    </section>
  );
}

export function FallbackPanel({ view }: { view: RoomView }): SafeHtml {
  const build = view.mirror;
  const publication = build && !failed(build) ? build.publications.at(-1) : undefined;
  return (
    <section class="panel" id="fallback" aria-labelledby="fallback-h" data-live="fallback">
      <h2 id="fallback-h">Fallback and flags</h2>
      <dl class="room-pairs">
        <dt>Banner</dt>
        <dd data-banner="">
          {view.banner === null ? (
            <span class="muted">unknown</span>
          ) : view.banner.active ? (
            <>
              <strong>shown</strong>
              {view.banner.includesIncident ? ' for this incident' : ' (another incident)'}
              {view.banner.message ? <div class="muted">{view.banner.message}</div> : null}
              {view.banner.fallbackUrl ? <div class="muted">points buyers to {view.banner.fallbackUrl}</div> : null}
            </>
          ) : (
            'not shown'
          )}
        </dd>
        <dt>Mirror build</dt>
        <dd data-mirror-build="">
          {build === null ? (
            <span class="muted">never built</span>
          ) : failed(build) ? (
            <span class="muted">could not be read: {build.error}</span>
          ) : (
            <>
              <Time at={Date.parse(build.finished_at ?? build.started_at)} /> ·{' '}
              {build.error ? <strong>failed: {build.error}</strong> : build.finished_at ? 'built' : 'running'}
              {build.files !== null ? ` · ${build.files} files` : ''}
            </>
          )}
        </dd>
        <dt>Mirror publish</dt>
        <dd data-mirror-publish="">
          {publication ? (
            <>
              <Time at={Date.parse(publication.started_at)} /> · {publication.target}:{' '}
              {publication.error ? <strong>failed: {publication.error}</strong> : `published ${publication.version ?? ''}`}
            </>
          ) : (
            <span class="muted">not published</span>
          )}
        </dd>
      </dl>
      <h3>Flags</h3>
      {view.flags === null ? (
        <p class="muted">No flags in this installation.</p>
      ) : failed(view.flags) ? (
        <p class="muted">The flags could not be read: {view.flags.error}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Flag</th>
              <th scope="col">Value</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {view.flags.map((f) => (
              <tr data-flag={f.key}>
                <td>
                  <code>{f.key}</code>
                </td>
                <td>{JSON.stringify(f.value)}</td>
                <td>{f.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <a href="/console/fallback">Fallback</a>
      </p>
    </section>
  );
}
