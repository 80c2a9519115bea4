import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { Fragment, h, type SafeHtml } from '../console/html.js';
import { CsrfField, Layout, Notice } from '../console/layout.js';
import type { DrillView } from './drills.service.js';
import { SCENARIOS } from './scorecard.js';

const secs = (s: number | null) =>
  s === null ? '—' : s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;

/** Score per drill, oldest first, as a bar chart (the trend). */
function Trend(props: { drills: readonly DrillView[] }): SafeHtml {
  const done = props.drills.filter((d) => d.scorecard).reverse();
  if (done.length === 0) return <p>No finished drill yet.</p>;
  const w = 24;
  const height = 120;
  return (
    <figure>
      <svg
        width={done.length * w + 40}
        height={height + 30}
        role="img"
        aria-label={`Drill scores, oldest first: ${done.map((d) => d.scorecard?.score).join(', ')}`}
      >
        <line x1="30" y1={height} x2={done.length * w + 40} y2={height} stroke="#999" />
        <text x="0" y="12" font-size="10">
          100
        </text>
        <text x="10" y={height} font-size="10">
          0
        </text>
        {done.map((d, i) => {
          const score = d.scorecard?.score ?? 0;
          const barH = Math.round((score / 100) * (height - 10));
          return (
            <g>
              <rect
                x={34 + i * w}
                y={height - barH}
                width={w - 6}
                height={barH}
                fill={score >= 80 ? '#2e7d32' : score >= 50 ? '#f9a825' : '#c62828'}
              >
                <title>{`${d.started_at.slice(0, 16).replace('T', ' ')} ${d.scenario}: ${score}/100`}</title>
              </rect>
              <text x={34 + i * w} y={height + 12} font-size="9">
                {d.scenario.slice(0, 3)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>Score per drill, oldest first.</figcaption>
    </figure>
  );
}

export function DrillsPage(props: {
  actor: Actor;
  drills: readonly DrillView[];
  target: string | null;
  notice?: string;
  error?: string;
}): SafeHtml {
  return (
    <Layout title="Drills" actor={props.actor} active="/console/drills">
      <h1>Drills</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <p>
        A drill breaks one entry point of{' '}
        {props.target ? <strong>{props.target}</strong> : 'a showroom (none is set up: run the demo or configure drill.staging)'},
        lets detection and the playbook run in real time (every message goes to the sinks; the CRM and the live flags are
        simulated), restores it and scores the response. The same runs from a terminal: <code>keepwarm drill --scenario api</code>
        .
      </p>
      {props.target && can(props.actor.role, 'incidents.declare') ? (
        <form method="post" action="/console/drills" class="inline">
          <CsrfField actor={props.actor} />
          <label for="scenario">Scenario</label>{' '}
          <select id="scenario" name="scenario">
            {SCENARIOS.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>{' '}
          <label for="hold">Outage length (seconds)</label>{' '}
          <input id="hold" name="hold" type="number" min="10" max="3600" value="90" />{' '}
          <button type="submit">Start a drill</button>
        </form>
      ) : null}
      <h2>Trend</h2>
      <Trend drills={props.drills} />
      <h2>History</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Started (UTC)</th>
            <th scope="col">Scenario</th>
            <th scope="col">State</th>
            <th scope="col">Detect</th>
            <th scope="col">Declare</th>
            <th scope="col">Acknowledge</th>
            <th scope="col">Fallback</th>
            <th scope="col">Score</th>
          </tr>
        </thead>
        <tbody>
          {props.drills.map((d) => {
            const m = new Map((d.scorecard?.milestones ?? []).map((x) => [x.key, x.seconds]));
            return (
              <tr data-drill={d.id}>
                <td>
                  <a href={`/console/drills/${encodeURIComponent(d.id)}`}>{d.started_at.slice(0, 19).replace('T', ' ')}</a>
                </td>
                <td>{d.scenario}</td>
                <td>{d.state}</td>
                <td>{secs(m.get('detect') ?? null)}</td>
                <td>{secs(m.get('declare') ?? null)}</td>
                <td>{secs(m.get('acknowledge') ?? null)}</td>
                <td>{secs(m.get('fallback') ?? null)}</td>
                <td>{d.scorecard ? `${d.scorecard.score}/100` : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Layout>
  );
}

export function DrillPage(props: { actor: Actor; drill: DrillView }): SafeHtml {
  const { drill } = props;
  const card = drill.scorecard;
  return (
    <Layout title={`Drill ${drill.scenario}`} actor={props.actor} active="/console/drills">
      <p>
        <a href="/console/drills">Drills</a>
      </p>
      <h1>
        Drill: {drill.scenario} ({drill.state})
      </h1>
      {drill.state === 'running' || drill.state === 'restoring' ? (
        <Notice kind="ok">This drill is still running: reload for its progress.</Notice>
      ) : null}
      {drill.error ? <Notice kind="error">{drill.error}</Notice> : null}
      <p>
        Started {drill.started_at.slice(0, 19).replace('T', ' ')} UTC on {drill.target}; entry point broken for{' '}
        {drill.hold_seconds} s.
        {drill.incident_id ? (
          <Fragment>
            {' '}
            Incident: <a href={`/console/incidents/${encodeURIComponent(drill.incident_id)}`}>{drill.incident_id}</a>.
          </Fragment>
        ) : null}
      </p>
      {card ? (
        <Fragment>
          <p class="score">
            Score: <strong>{card.score}/100</strong>
          </p>
          <table>
            <caption>Milestones from the break</caption>
            <thead>
              <tr>
                <th scope="col">Milestone</th>
                <th scope="col">Time</th>
                <th scope="col">Target</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {card.milestones.map((m) => (
                <tr data-milestone={m.key}>
                  <th scope="row">{m.label}</th>
                  <td>{secs(m.seconds)}</td>
                  <td>{secs(m.target_seconds)}</td>
                  <td>{m.on_target === null ? 'n/a' : m.on_target ? 'on target' : 'missed'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Messages</h2>
          <p>
            {card.messages.total} in all:{' '}
            {Object.entries(card.messages.by_channel)
              .map(([c, n]) => `${c} ${n}`)
              .join(', ') || 'none'}
            . By tier:{' '}
            {Object.entries(card.messages.by_tier)
              .map(([t, n]) => `${t === 'none' ? 'no tier' : `Tier ${t}`} ${n}`)
              .join(', ') || 'none'}
            .
          </p>
          <h2>Cadence and checklist</h2>
          <p>
            {card.cadence.updates} public updates; longest gap {secs(card.cadence.longest_gap_seconds)};{' '}
            {card.cadence.late_updates} late
            {card.cadence.adherence === null ? '' : ` (adherence ${card.cadence.adherence}%)`}. Checklist: {card.checklist.done}{' '}
            of {card.checklist.total} done, {card.checklist.on_time} on time.
          </p>
        </Fragment>
      ) : null}
    </Layout>
  );
}
