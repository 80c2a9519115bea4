import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { h, type SafeHtml } from '../console/html.js';
import { Badge, CsrfField, Layout, Notice, Time } from '../console/layout.js';
import type { Component } from '../incidents/components.repo.js';
import { COMPONENT_STATUS_LABELS, type ComponentStatus, describeScope } from '../incidents/incident.js';
import type { Detection, Monitor, Signal, StoredHealth, StoredMonitorState } from './detection.repo.js';

/** One bar per 15 minutes over 24 hours: the worst outcome any probe of the component had. */
export type Bucket = 'none' | 'ok' | 'degraded' | 'failed';

export interface BoardRow {
  component: Component;
  health: StoredHealth | undefined;
  monitors: Array<{ monitor: Monitor; states: StoredMonitorState[] }>;
  signals: Signal[];
  buckets: Bucket[];
}

function History({ buckets }: { buckets: Bucket[] }): SafeHtml {
  const failed = buckets.filter((b) => b === 'failed').length;
  const label = `last 24 hours: ${failed} of ${buckets.length} quarter-hours with failed checks`;
  return (
    <div class="history" role="img" aria-label={label} title={label}>
      {buckets.map((b) => (
        <span class={`bar b-${b}`}></span>
      ))}
    </div>
  );
}

function DetectionActions({ actor, detection }: { actor: Actor; detection: Detection }): SafeHtml {
  if (detection.state !== 'suggested' || !can(actor.role, 'detections.decide'))
    return <span class="muted">{detection.state}</span>;
  return (
    <div class="actions">
      <form method="post" action={`/console/detections/${detection.id}/confirm`}>
        <CsrfField actor={actor} />
        <button type="submit">Declare incident</button>
      </form>
      <form method="post" action={`/console/detections/${detection.id}/dismiss`}>
        <CsrfField actor={actor} />
        <button type="submit" class="secondary">
          Dismiss (false alarm)
        </button>
      </form>
    </div>
  );
}

/** The board's table: one row per component, probes by region, signals, 24 hours (also in the incident room). */
export function BoardTable(props: { rows: BoardRow[]; live?: string | undefined }): SafeHtml {
  return (
    <table data-live={props.live}>
      <thead>
        <tr>
          <th scope="col">Component</th>
          <th scope="col">Now</th>
          <th scope="col">Probes by region</th>
          <th scope="col">Signals</th>
          <th scope="col">24 hours</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => {
          const status: ComponentStatus = row.health?.status ?? 'operational';
          return (
            <tr>
              <td>
                {row.component.name}
                <div class="muted">{row.component.kind}</div>
              </td>
              <td>
                <Badge value={status} label={COMPONENT_STATUS_LABELS[status]} />
                {row.health && status !== 'operational' ? <div class="muted">{describeScope(row.health.scope)}</div> : null}
                {row.health?.reasons.map((r) => (
                  <div class="muted">{r}</div>
                ))}
              </td>
              <td>
                {row.monitors.length === 0 ? <span class="muted">no monitors</span> : null}
                {row.monitors.map(({ monitor, states }) => (
                  <div>
                    <strong>{monitor.name}</strong> {states.length === 0 ? <span class="muted">no results yet</span> : null}
                    {states.map((s) => (
                      <span class={`badge r-${s.state}`} title={s.lastError ?? ''}>
                        {s.region}: {s.state}
                        {s.degraded ? ' (slow)' : ''}
                      </span>
                    ))}
                  </div>
                ))}
              </td>
              <td>
                {row.signals.length === 0 ? <span class="muted">—</span> : null}
                {row.signals.map((s) => (
                  <div>
                    <Badge value={s.severity === 'down' ? 'major_outage' : 'degraded_performance'} label={s.source} /> {s.summary}
                  </div>
                ))}
              </td>
              <td>
                <History buckets={row.buckets} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function HealthBoardPage(props: {
  actor: Actor;
  rows: BoardRow[];
  detections: Detection[];
  componentNames: Map<string, string>;
  notice?: string | undefined;
  error?: string | undefined;
}): SafeHtml {
  const { actor } = props;
  const open = props.detections.filter((d) => d.state === 'suggested');
  return (
    <Layout title="Health" actor={actor} active="/console/health">
      <h1>Health</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {open.map((d) => (
        <div class="panel alert" data-live="detections">
          <h2>Outage detected: declare an incident?</h2>
          <p>
            {d.components
              .map((c) => `${props.componentNames.get(c.id) ?? c.id}: ${COMPONENT_STATUS_LABELS[c.status]}`)
              .join(', ')}{' '}
            · {describeScope(d.scope)} · first failure <Time at={d.firstFailureAt} />
          </p>
          <p class="muted">{d.summary}</p>
          {d.confirmBy ? (
            <p>
              Declared automatically at <Time at={d.confirmBy} /> unless someone decides first.
            </p>
          ) : null}
          <DetectionActions actor={actor} detection={d} />
        </div>
      ))}
      <p class="muted">
        Every component across regions and sources: probes per region, alerts, upstream status pages and browser beacons. Bars:
        the last 24 hours in quarter-hours (green fine, amber slow, red failed checks, grey no data).
      </p>
      <BoardTable rows={props.rows} live="board" />
      <h2>Recent detections</h2>
      {props.detections.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Detected</th>
              <th scope="col">Components</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {props.detections.map((d) => (
              <tr>
                <td>
                  <Time at={d.createdAt} />
                </td>
                <td>{d.components.map((c) => props.componentNames.get(c.id) ?? c.id).join(', ')}</td>
                <td>
                  {d.incidentId ? (
                    <a href={`/console/incidents/${d.incidentId}`}>incident declared</a>
                  ) : (
                    <span class="muted">{d.state === 'suggested' ? 'awaiting a decision (above)' : d.state}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

export function MonitorsPage(props: {
  actor: Actor;
  monitors: Monitor[];
  components: Component[];
  error?: string | undefined;
  notice?: string | undefined;
}): SafeHtml {
  const { actor } = props;
  const names = new Map(props.components.map((c) => [c.id, c.name]));
  const writable = can(actor.role, 'monitors.write');
  return (
    <Layout title="Monitors" actor={actor} active="/console/monitors">
      <h1>Monitors</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Monitor</th>
            <th scope="col">Component</th>
            <th scope="col">Check</th>
            <th scope="col">Every</th>
            <th scope="col">Regions</th>
            {writable ? <th scope="col"></th> : null}
          </tr>
        </thead>
        <tbody>
          {props.monitors.map((m) => (
            <tr>
              <td>
                {m.name} {m.enabled ? null : <span class="badge s-under_maintenance">paused</span>}
              </td>
              <td>{names.get(m.componentId) ?? m.componentId}</td>
              <td>
                {m.type}{' '}
                <code>
                  {'url' in m.check
                    ? m.check.url
                    : 'host' in m.check
                      ? m.check.host
                      : 'hostname' in m.check
                        ? m.check.hostname
                        : ''}
                </code>
              </td>
              <td>{m.intervalMs / 1000} s</td>
              <td>{m.regions.join(', ')}</td>
              {writable ? (
                <td>
                  <form
                    method="post"
                    action={`/console/monitors/${m.id}/delete`}
                    data-confirm={`Delete monitor ${m.name} and its history?`}
                  >
                    <CsrfField actor={actor} />
                    <button type="submit" class="secondary">
                      Delete
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {writable ? (
        <form method="post" action="/console/monitors" class="panel spaced">
          <h2>Add an HTTP check</h2>
          <p class="muted">TLS expiry and DNS checks: POST /api/v1/monitors with type tls or dns.</p>
          <CsrfField actor={actor} />
          <div class="row">
            <div>
              <label for="m-component">Component</label>
              <select id="m-component" name="component">
                {props.components.map((c) => (
                  <option value={c.id}>{c.name}</option>
                ))}
              </select>
            </div>
            <div>
              <label for="m-name">Name</label>
              <input id="m-name" name="name" type="text" required maxlength="200" />
            </div>
          </div>
          <label for="m-url">URL</label>
          <input id="m-url" name="url" type="text" required placeholder="https://showroom.example/health" />
          <div class="row">
            <div>
              <label for="m-contains">
                Body contains <span class="hint">(optional)</span>
              </label>
              <input id="m-contains" name="body_contains" type="text" />
            </div>
            <div>
              <label for="m-interval">Every (seconds, at least 5)</label>
              <input id="m-interval" name="interval_seconds" type="number" min="5" value="30" />
            </div>
            <div>
              <label for="m-regions">
                Regions <span class="hint">(comma-separated; * for all)</span>
              </label>
              <input id="m-regions" name="regions" type="text" value="*" />
            </div>
          </div>
          <div class="actions">
            <button type="submit">Add monitor</button>
          </div>
        </form>
      ) : null}
    </Layout>
  );
}
