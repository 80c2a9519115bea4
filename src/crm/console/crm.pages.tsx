import type { Actor } from '../../app/actor.js';
import { can } from '../../app/roles.js';
import { Fragment, h, type SafeHtml } from '../../console/html.js';
import { CsrfField, Layout, Notice, Time } from '../../console/layout.js';
import { OUTCOMES, type Outcome } from '../outage/outage.service.js';
import { SEQUENCES } from '../sequences/definitions.js';
import type { QueueIncident, QueueRow, TaskRow } from './crm-console.repo.js';

export const TIERS = ['A', 'B', 'C'] as const;
export const TIER_LABELS: Record<(typeof TIERS)[number], string> = {
  A: 'Tier A: call now',
  B: 'Tier B: SMS and email',
  C: 'Tier C: nurture',
};

export const OUTCOME_LABELS: Record<Outcome, string> = {
  reached: 'Reached',
  voicemail: 'Left voicemail',
  demo_booked: 'Demo booked',
  no_answer: 'No answer',
};

const money = (n: number | null) => (n === null ? '—' : `$${n.toLocaleString('en-US')}`);

/** The DRILL label on a drill's outage and tasks. */
function DrillLabel(): SafeHtml {
  return <span class="badge drill">DRILL</span>;
}

function sequenceText(r: QueueRow, drill: boolean): string {
  if (drill) return r.tier === 'A' ? 'owner call (rehearsal)' : 'first step to the sinks';
  if (!r.sequence) return r.tier === 'A' ? 'owner call' : '—';
  const name = r.sequence.replace('_', ' ');
  if (r.sequenceState === 'stopped') return `${name}: stopped (${r.stopReason ?? 'no reason'})`;
  if (r.sequenceState === 'completed') return `${name}: completed`;
  const total = SEQUENCES[r.sequence]?.steps.length;
  const sent = r.sequenceStep ?? 0;
  return total ? `${name}: ${sent} of ${total} sent` : `${name}: ${sent} sent`;
}

/** The lead queue of an outage, by tier, with the rule that decided each lead's tier. */
export function LeadQueuePage(props: {
  actor: Actor;
  incidents: QueueIncident[];
  incidentId: string | null;
  tier: (typeof TIERS)[number];
  counts: Record<string, number>;
  rows: QueueRow[];
  limit: number;
}): SafeHtml {
  const { incidentId, tier } = props;
  const current = props.incidents.find((i) => i.id === incidentId);
  return (
    <Layout title="Lead queue" actor={props.actor} active="/console/leads">
      <h1>Lead queue</h1>
      {props.incidents.length === 0 ? (
        <p class="muted">No outage has tagged leads yet. Declaring an incident tags the pipeline and sorts it into tiers.</p>
      ) : (
        <>
          <form method="get" action="/console/leads" class="row">
            <div>
              <label for="queue-incident">Outage</label>
              <select id="queue-incident" name="incident">
                {props.incidents.map((i) => (
                  <option value={i.id} selected={i.id === incidentId}>
                    {`${i.drill ? 'DRILL: ' : ''}${i.name} (${i.status}, ${i.leads.toLocaleString('en-US')} leads)`}
                  </option>
                ))}
              </select>
            </div>
            <input type="hidden" name="tier" value={tier} />
            <div class="actions">
              <button type="submit" class="secondary">
                Show
              </button>
            </div>
          </form>
          <nav class="tabs" aria-label="Tiers">
            {TIERS.map((t) => (
              <a
                href={`/console/leads?incident=${encodeURIComponent(incidentId ?? '')}&tier=${t}`}
                aria-current={t === tier ? 'page' : undefined}
                class={t === tier ? 'current' : undefined}
              >
                {`${TIER_LABELS[t]} (${(props.counts[t] ?? 0).toLocaleString('en-US')})`}
              </a>
            ))}
          </nav>
          {current?.drill ? (
            <p class="drill-notice">
              <DrillLabel /> The tiers a real incident would have given these leads. Drills leave the leads and the CRM unchanged:
              no tags, no sequences, messages to the sinks only.
            </p>
          ) : null}
          {current ? (
            <p class="muted">
              Showing the {props.rows.length < (props.counts[tier] ?? 0) ? `first ${props.rows.length} of ` : ''}
              {(props.counts[tier] ?? 0).toLocaleString('en-US')} leads in this tier, demos soonest first, then by ARR potential.
            </p>
          ) : null}
          <table>
            <thead>
              <tr>
                <th>Lead</th>
                <th>Owner</th>
                <th>ARR potential</th>
                <th>Demo</th>
                <th>Matched rule</th>
                <th>Outage</th>
                <th>Sequence</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  <td>
                    {r.name}
                    <br />
                    <span class="muted">{r.company ?? ''}</span>
                  </td>
                  <td>{r.ownerName ?? <span class="muted">unassigned</span>}</td>
                  <td>{money(r.arrPotential)}</td>
                  <td>{r.demoScheduledAt === null ? '—' : <Time at={r.demoScheduledAt} />}</td>
                  <td>{r.tierRule ?? '—'}</td>
                  <td>
                    {current?.drill ? <DrillLabel /> : (r.outageStatus ?? '—')} · {r.outagePriority ?? '—'}
                    {r.fallbackSent ? ' · fallback sent' : ''}
                    {r.reEngagedAt !== null ? (
                      <>
                        <br />
                        <strong>re-engaged</strong> <Time at={r.reEngagedAt} />
                      </>
                    ) : null}
                  </td>
                  <td>{sequenceText(r, current?.drill ?? false)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Layout>
  );
}

/** A rep's tasks: who to call, why, with the script, and one click to record how it went. */
export function TasksPage(props: {
  actor: Actor;
  everyone: boolean;
  open: TaskRow[];
  done: TaskRow[];
  now: number;
  notice?: string | undefined;
  error?: string | undefined;
}): SafeHtml {
  const { actor } = props;
  const canSeeAll = can(actor.role, 'incidents.update');
  return (
    <Layout title={props.everyone ? 'All tasks' : 'My tasks'} actor={actor} active="/console/tasks">
      <h1>{props.everyone ? 'All open tasks' : 'My tasks'}</h1>
      {canSeeAll ? (
        <p>{props.everyone ? <a href="/console/tasks">Only mine</a> : <a href="/console/tasks?owner=all">Everyone's</a>}</p>
      ) : null}
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.open.length === 0 ? <p class="muted">Nothing to do right now.</p> : null}
      {props.open.map((t) => {
        const minutes = Math.round((t.dueAt - props.now) / 60_000);
        return (
          <article class="panel task" data-task={t.id} data-drill={t.drill ? 'true' : undefined}>
            <h2>
              {t.drill ? (
                <>
                  <DrillLabel />{' '}
                </>
              ) : null}
              {t.title} {t.lead.tier ? <span class="badge">{`Tier ${t.lead.tier}`}</span> : null}
            </h2>
            {t.drill ? (
              <p class="drill-notice">A drill: rehearse the call, do not call the lead. The outcome never changes the lead.</p>
            ) : null}
            <p>
              <strong>{t.lead.name}</strong>
              {t.lead.company ? `, ${t.lead.company}` : ''}
              {t.lead.phone ? (
                <>
                  {' · '}
                  <a href={`tel:${t.lead.phone}`}>{t.lead.phone}</a>
                </>
              ) : null}
              {t.lead.email ? ` · ${t.lead.email}` : ''}
            </p>
            <p class={minutes < 0 ? 'overdue' : minutes <= 5 ? 'soon' : ''}>
              Due <Time at={t.dueAt} /> ({minutes >= 0 ? `in ${minutes} min` : `${-minutes} min overdue`})
              {props.everyone ? ` · ${t.ownerName ?? 'unassigned'}` : ''}
              {t.assignedReason ? <span class="muted">{` · ${t.assignedReason}`}</span> : null}
            </p>
            {t.script ? (
              <details open>
                <summary>Call script</summary>
                <pre class="rendered">{t.script}</pre>
              </details>
            ) : null}
            <form method="post" action={`/console/tasks/${t.id}/outcome`} class="outcomes">
              <CsrfField actor={actor} />
              <label for={`note-${t.id}`}>Note (optional)</label>
              <input id={`note-${t.id}`} name="note" maxlength="2000" />
              <div class="actions">
                {OUTCOMES.map((o) => (
                  <button
                    type="submit"
                    name="outcome"
                    value={o}
                    class={o === 'demo_booked' || o === 'reached' ? '' : 'secondary'}
                  >
                    {OUTCOME_LABELS[o]}
                  </button>
                ))}
              </div>
            </form>
          </article>
        );
      })}
      {props.done.length > 0 ? (
        <>
          <h2>Done recently</h2>
          <table>
            <thead>
              <tr>
                <th>Task</th>
                <th>Lead</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {props.done.map((t) => (
                <tr>
                  <td>
                    {t.drill ? (
                      <>
                        <DrillLabel />{' '}
                      </>
                    ) : null}
                    {t.title}
                  </td>
                  <td>{t.lead.name}</td>
                  <td>{t.outcome ? (OUTCOME_LABELS[t.outcome as Outcome] ?? t.outcome) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </Layout>
  );
}
