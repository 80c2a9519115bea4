import type { Actor } from '../app/actor.js';
import { can, rolesFor } from '../app/roles.js';
import { Fragment, h, type SafeHtml } from '../console/html.js';
import { Badge, CsrfField, Layout, Notice, Time } from '../console/layout.js';
import { CREDIT_STATES, type CreditState, centsToDecimal, formatBp, formatMoney, formatPpm, type SlaPolicy } from './credits.js';
import type { Credit } from './credits.repo.js';

/** Console: the approvers' queue of proposed credits, and the ledger with the billing export. */

const minutes = (ms: number) => (Math.round(ms / 6_000) / 10).toLocaleString('en-US', { minimumFractionDigits: 1 });
const authority = rolesFor('credits.approve_above_threshold').join(' or ');

function Incidents({ credit }: { credit: Credit }): SafeHtml {
  if (credit.incidents.length === 0) return <span class="muted">—</span>;
  return (
    <ul>
      {credit.incidents.map((i) => (
        <li>
          <a href={`/console/incidents/${i.incident_id}`}>{i.name ?? i.incident_id}</a>{' '}
          <span class="muted">({i.downtime_minutes.toLocaleString('en-US')} min)</span>
        </li>
      ))}
    </ul>
  );
}

function Share({ credit }: { credit: Credit }): SafeHtml {
  return (
    <>
      {formatBp(credit.creditBp)} %{credit.capped ? <Badge value="degraded_performance" label="capped" /> : null}
    </>
  );
}

function Decide(props: { actor: Actor; credit: Credit; open: boolean; mayDecide: boolean }): SafeHtml {
  const { actor, credit } = props;
  if (props.open) return <span class="muted">month not over yet</span>;
  if (!props.mayDecide)
    return (
      <span class="muted" data-needs-authority>
        needs {authority}
      </span>
    );
  const who = credit.accountName;
  return (
    <div class="actions">
      <form method="post" action={`/console/credits/${credit.id}/approve`}>
        <CsrfField actor={actor} />
        <input type="hidden" name="amount_cents" value={String(credit.amountCents)} />
        <input type="text" name="note" maxlength="1000" placeholder="Note (optional)" aria-label={`Approval note for ${who}`} />{' '}
        <button type="submit">Approve</button>
      </form>
      <form method="post" action={`/console/credits/${credit.id}/reject`}>
        <CsrfField actor={actor} />
        <input type="hidden" name="amount_cents" value={String(credit.amountCents)} />
        <input type="text" name="note" maxlength="1000" required placeholder="Reason" aria-label={`Reason to reject ${who}`} />{' '}
        <button type="submit" class="secondary">
          Reject
        </button>
      </form>
    </div>
  );
}

export function CreditQueuePage(props: {
  actor: Actor;
  queue: Credit[];
  now: number;
  month: string;
  mayDecide: (c: Credit) => boolean;
  isOpen: (c: Credit) => boolean;
  notice?: string | undefined;
  error?: string | undefined;
}): SafeHtml {
  const { actor } = props;
  return (
    <Layout title="SLA credits" actor={actor} active="/console/credits">
      <h1>SLA credits: approval queue</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <p class="muted">
        Credits are proposed per account and month from the incidents' component timelines and the account's plan policy. Above a
        policy's approval threshold only {authority} may approve or reject. <a href="/console/credits/ledger">Ledger</a>
      </p>
      {can(actor.role, 'credits.compute') ? (
        <form method="post" action="/console/credits/compute" class="filters">
          <CsrfField actor={actor} />
          <label>
            Month (YYYY-MM) <input type="text" name="month" value={props.month} required pattern="[0-9]{4}-[0-9]{2}" size={8} />
          </label>{' '}
          <button type="submit" class="secondary">
            Compute credits
          </button>
        </form>
      ) : null}
      {props.queue.length === 0 ? (
        <p class="muted" data-empty-queue>
          Nothing awaits a decision.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Month</th>
              <th scope="col">Availability</th>
              <th scope="col">Weighted downtime</th>
              <th scope="col">Credit</th>
              <th scope="col">Amount</th>
              <th scope="col">Incidents</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {props.queue.map((c) => (
              <tr data-credit={c.id} data-account={c.accountExternalId ?? c.accountId}>
                <td>
                  <strong>{c.accountName}</strong>
                  <br />
                  <span class="muted">
                    {c.accountExternalId ?? ''} · plan {c.plan}
                  </span>
                </td>
                <td>{c.month}</td>
                <td>
                  {formatPpm(c.availabilityPpm)} % <span class="muted">(target {c.policy.target_percent} %)</span>
                </td>
                <td>{minutes(c.downtimeMs)} min</td>
                <td>
                  <Share credit={c} />
                </td>
                <td>
                  <strong>{formatMoney(c.amountCents, c.currency)}</strong>
                  <br />
                  <span class="muted">of {formatMoney(c.feeCents, c.currency)}</span>
                  {c.amountCents > c.thresholdCents ? (
                    <>
                      <br />
                      <Badge value="partial_outage" label={`above ${formatMoney(c.thresholdCents, c.currency)}: ${authority}`} />
                    </>
                  ) : null}
                </td>
                <td>
                  <Incidents credit={c} />
                </td>
                <td>
                  <Decide actor={actor} credit={c} open={props.isOpen(c)} mayDecide={props.mayDecide(c)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

function PolicyTable({ policies }: { policies: SlaPolicy[] }): SafeHtml {
  if (policies.length === 0) return <p class="muted">No SLA policy yet (PUT /api/v1/credits/policies/:plan).</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Plan</th>
          <th scope="col">Target</th>
          <th scope="col">Bands</th>
          <th scope="col">Cap</th>
          <th scope="col">Weights</th>
          <th scope="col">Approval threshold</th>
        </tr>
      </thead>
      <tbody>
        {policies.map((p) => (
          <tr data-plan={p.plan}>
            <td>
              <strong>{p.plan}</strong>
              {p.note ? <p class="muted">{p.note}</p> : null}
            </td>
            <td>{p.target_percent} %</td>
            <td>
              {p.bands.map((b) => (
                <div>
                  below {b.below_percent} % → {b.credit_percent} %
                </div>
              ))}
            </td>
            <td>{p.cap_percent} %</td>
            <td>
              partial {p.partial_outage_weight}, degraded {p.degraded_performance_weight}
            </td>
            <td>
              above {centsToDecimal(p.approval_threshold_cents)} <span class="muted">(in the account's currency)</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CreditLedgerPage(props: {
  actor: Actor;
  credits: Credit[];
  policies: SlaPolicy[];
  month: string | undefined;
  state: CreditState | undefined;
}): SafeHtml {
  const { actor } = props;
  return (
    <Layout title="SLA credit ledger" actor={actor} active="/console/credits">
      <h1>SLA credit ledger</h1>
      <p>
        <a href="/console/credits">Approval queue</a>
      </p>
      <form method="get" action="/console/credits/ledger" class="filters">
        <label>
          Month <input type="text" name="month" value={props.month ?? ''} pattern="[0-9]{4}-[0-9]{2}" size={8} />
        </label>{' '}
        <label>
          State{' '}
          <select name="state">
            <option value="">all</option>
            {CREDIT_STATES.map((s) => (
              <option value={s} selected={props.state === s}>
                {s}
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="submit" class="secondary">
          Show
        </button>
      </form>
      {props.month && can(actor.role, 'credits.export') ? (
        <p>
          <a href={`/api/v1/credits/export.csv?month=${encodeURIComponent(props.month)}`} data-export>
            Export approved credits of {props.month} for billing (CSV)
          </a>
        </p>
      ) : null}
      {props.credits.length === 0 ? (
        <p class="muted">No credits{props.month ? ` for ${props.month}` : ''}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Month</th>
              <th scope="col">Availability</th>
              <th scope="col">Credit</th>
              <th scope="col">Amount</th>
              <th scope="col">State</th>
              <th scope="col">Decided</th>
            </tr>
          </thead>
          <tbody>
            {props.credits.map((c) => (
              <tr data-credit={c.id}>
                <td>
                  {c.accountName}
                  <br />
                  <span class="muted">
                    {c.accountExternalId ?? ''} · plan {c.plan}
                  </span>
                </td>
                <td>{c.month}</td>
                <td>{formatPpm(c.availabilityPpm)} %</td>
                <td>
                  <Share credit={c} />
                </td>
                <td>{formatMoney(c.amountCents, c.currency)}</td>
                <td>
                  <Badge value={c.state} prefix="credit" />
                </td>
                <td>
                  {c.decidedAt !== null ? (
                    <>
                      <Time at={c.decidedAt} /> by {c.decidedByName ?? c.decidedBy ?? '?'} ({c.decidedRole ?? '?'})
                      {c.decisionNote ? <p class="muted">{c.decisionNote}</p> : null}
                    </>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Policies</h2>
      <PolicyTable policies={props.policies} />
    </Layout>
  );
}
