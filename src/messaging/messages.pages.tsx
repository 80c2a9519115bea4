import type { Actor } from '../app/actor.js';
import { Fragment, h, type SafeHtml } from '../console/html.js';
import { Badge, Layout, Time } from '../console/layout.js';
import type { Attempt, Message } from './messages.repo.js';
import { MESSAGE_STATUSES, OUTBOUND_CHANNELS } from './messaging.js';

export interface OutboxFilter {
  incident_id?: string | undefined;
  channel?: string | undefined;
  status?: string | undefined;
  recipient?: string | undefined;
}

function statusClass(status: string): string {
  switch (status) {
    case 'delivered':
    case 'sent':
      return 'operational';
    case 'queued':
    case 'sending':
      return 'degraded_performance';
    case 'suppressed':
      return 'under_maintenance';
    default:
      return 'major_outage';
  }
}

export function MessageStatus({ status }: { status: string }): SafeHtml {
  return <span class={`badge s-${statusClass(status)}`}>{status}</span>;
}

export function OutboxPage(props: {
  actor: Actor;
  messages: Message[];
  counts: Array<{ channel: string; status: string; n: number }>;
  filter: OutboxFilter;
  providers: Array<{ channel: string; providers: string[] }>;
}): SafeHtml {
  const { filter } = props;
  const total = (status: string) => props.counts.filter((c) => c.status === status).reduce((n, c) => n + c.n, 0);
  const last = props.messages[props.messages.length - 1];
  const query = (extra: Record<string, string>) =>
    `/console/outbox?${new URLSearchParams(
      Object.entries({ ...filter, ...extra }).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
    ).toString()}`;
  return (
    <Layout title="Outbox" actor={props.actor} active="/console/outbox">
      <h1>Outbox</h1>
      <p class="muted">
        Every message Keepwarm sends, with its delivery attempts.{' '}
        {props.providers.length > 0
          ? `Providers: ${props.providers.map((p) => `${p.channel} → ${p.providers.join(', ') || 'none'}`).join('; ')}.`
          : 'No providers configured: messages go to the sink (shown here, sent nowhere).'}
      </p>
      <p>
        {MESSAGE_STATUSES.map((s) => (
          <span>
            <MessageStatus status={s} /> {total(s)}{' '}
          </span>
        ))}
      </p>
      <form method="get" action="/console/outbox" class="panel row">
        <div>
          <label for="f-channel">Channel</label>
          <select id="f-channel" name="channel">
            <option value="">Any</option>
            {OUTBOUND_CHANNELS.map((c) => (
              <option value={c} selected={filter.channel === c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any</option>
            {MESSAGE_STATUSES.map((s) => (
              <option value={s} selected={filter.status === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-incident">Incident id</label>
          <input id="f-incident" name="incident_id" type="text" value={filter.incident_id ?? ''} />
        </div>
        <div>
          <label for="f-recipient">Recipient</label>
          <input id="f-recipient" name="recipient" type="text" value={filter.recipient ?? ''} />
        </div>
        <div class="shrink">
          <button type="submit">Filter</button>
        </div>
      </form>
      {props.messages.length === 0 ? (
        <div class="panel">No messages match.</div>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Channel</th>
              <th scope="col">Recipient</th>
              <th scope="col">Template</th>
              <th scope="col">Status</th>
              <th scope="col">Provider</th>
            </tr>
          </thead>
          <tbody>
            {props.messages.map((m) => (
              <tr>
                <td>
                  <a href={`/console/outbox/${m.id}`}>
                    <Time at={m.createdAt} />
                  </a>
                </td>
                <td>
                  {m.channel}
                  {m.drill ? <span class="badge drill"> drill</span> : null}
                </td>
                <td>{m.recipientName ? `${m.recipientName} <${m.recipient}>` : m.recipient}</td>
                <td>{m.templateKey ?? '—'}</td>
                <td>
                  <MessageStatus status={m.status} />
                  {m.statusReason ? <div class="muted">{m.statusReason}</div> : null}
                </td>
                <td>{m.provider ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {last && props.messages.length >= 100 ? (
        <p>
          <a href={query({ before: last.id })}>Older messages</a>
        </p>
      ) : null}
    </Layout>
  );
}

export function MessagePage({ actor, message, attempts }: { actor: Actor; message: Message; attempts: Attempt[] }): SafeHtml {
  return (
    <Layout title="Message" actor={actor} active="/console/outbox">
      <p>
        <a href="/console/outbox">← Outbox</a>
      </p>
      <h1>
        {message.channel} to {message.recipient}
      </h1>
      <div class="panel">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <MessageStatus status={message.status} /> {message.statusReason ?? ''}
          </dd>
          <dt>Template</dt>
          <dd>{message.templateKey ?? '—'}</dd>
          <dt>Purpose</dt>
          <dd>{message.purpose}</dd>
          <dt>Incident</dt>
          <dd>{message.incidentId ? <a href={`/console/incidents/${message.incidentId}`}>{message.incidentId}</a> : '—'}</dd>
          <dt>Idempotency key</dt>
          <dd>
            <code>{message.idempotencyKey}</code>
          </dd>
          <dt>Provider</dt>
          <dd>
            {message.provider ?? '—'} {message.providerMessageId ? <code>{message.providerMessageId}</code> : null}
          </dd>
          <dt>Created</dt>
          <dd>
            <Time at={message.createdAt} />
          </dd>
          <dt>Sent</dt>
          <dd>
            <Time at={message.sentAt} />
          </dd>
          <dt>Delivered</dt>
          <dd>
            <Time at={message.deliveredAt} />
          </dd>
          {message.drill ? (
            <>
              <dt>Drill</dt>
              <dd>yes: delivered to the sink only</dd>
            </>
          ) : null}
        </dl>
      </div>
      <h2>Content</h2>
      <div class="panel">
        {message.subject ? (
          <p>
            <strong>Subject:</strong> {message.subject}
          </p>
        ) : null}
        <pre class="body wrap">{message.bodyText}</pre>
      </div>
      <h2>Attempts</h2>
      {attempts.length === 0 ? (
        <div class="panel muted">None yet.</div>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Provider</th>
              <th scope="col">Outcome</th>
              <th scope="col">Code</th>
              <th scope="col">Detail</th>
              <th scope="col">ms</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr>
                <td>
                  <Time at={a.at} />
                </td>
                <td>{a.provider}</td>
                <td>
                  <Badge value={a.outcome === 'sent' ? 'operational' : 'partial_outage'} label={a.outcome} />
                </td>
                <td>{a.code ?? ''}</td>
                <td>{a.detail ?? ''}</td>
                <td>{a.durationMs}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
