import { Fragment, h, type SafeHtml } from '../../console/html.js';
import { toIso } from '../../core/clock.js';
import { COMPONENT_STATUS_LABELS, type ComponentStatus, type Impact, STATUS_LABELS } from '../../incidents/incident.js';
import type { SpComponent, StatuspageDocuments } from '../../incidents/statuspage.js';
import type { ComponentUptime, DayStatus, SiteIncident, UptimeDay } from './model.js';

/** Where the page's links point: relative on a static target, absolute paths when served live. */
export interface PageLinks {
  css: string;
  icon: string;
  atom: string;
  rss: string;
  summaryJson: string;
  /** The live server's subscribe endpoint (a static host cannot take the form). */
  subscribe: string;
  /** The form's origin, for the CSP's form-action. */
  subscribeOrigin: string;
  /** Where published incident reports live on the live server (`<reports>/<id>/report`); a postmortem links there. */
  reports?: string;
}

export interface PageInput {
  pageName: string;
  summary: StatuspageDocuments['summary.json'];
  incidents: SiteIncident[];
  uptime: ReadonlyMap<string, ComponentUptime>;
  now: number;
  links: PageLinks;
  fallbackUrl: string | null;
}

const IMPACT_WORDS: Record<Impact, string> = {
  none: 'No impact',
  minor: 'Minor impact',
  major: 'Major impact',
  critical: 'Critical impact',
};

const DAY_WORDS: Record<DayStatus, string> = {
  operational: 'no incidents',
  degraded_performance: 'degraded performance',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
  no_data: 'no data',
};

/** "15 Jan 2026, 09:05 UTC": the page has no script to localise times, so it says which zone. */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  const month = d.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${month} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

function formatDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

export function describeDay(day: UptimeDay): string {
  if (day.status === 'no_data') return `${day.date}: no data`;
  if (day.status === 'operational') return `${day.date}: no incidents`;
  const outage = day.outageMinutes > 0 ? `, ${day.outageMinutes} min of outage` : '';
  return `${day.date}: ${DAY_WORDS[day.status]} (${day.affectedMinutes} min affected${outage})`;
}

function Time({ at }: { at: number }): SafeHtml {
  return <time datetime={toIso(at)}>{formatUtc(at)}</time>;
}

function Bars({ uptime }: { uptime: ComponentUptime | undefined }): SafeHtml {
  if (!uptime) return <Fragment />;
  const days = uptime.days;
  return (
    <Fragment>
      <div class="bars" role="img" aria-label={`${days.length}-day history: ${uptime.percent}% uptime`}>
        {days.map((d) => (
          <span class={`bar d-${d.status}`} title={describeDay(d)}></span>
        ))}
      </div>
      <div class="bars-legend">
        <span>{days.length} days ago</span>
        <span>{uptime.percent}% uptime</span>
        <span>Today</span>
      </div>
    </Fragment>
  );
}

function ComponentRow({ c, uptime }: { c: SpComponent; uptime: ComponentUptime | undefined }): SafeHtml {
  return (
    <div class="component" id={`component-${c.id}`}>
      <span>{c.name}</span>
      <span class={`st-${c.status}`}>{COMPONENT_STATUS_LABELS[c.status as ComponentStatus]}</span>
      <Bars uptime={uptime} />
    </div>
  );
}

function Components({ summary, uptime }: { summary: PageInput['summary']; uptime: PageInput['uptime'] }): SafeHtml {
  const byId = new Map(summary.components.map((c) => [c.id, c]));
  const visible = (c: SpComponent) => !c.only_show_if_degraded || c.status !== 'operational';
  const rows: SafeHtml[] = [];
  for (const c of summary.components) {
    if (c.group) {
      const members = (c.components ?? []).flatMap((id) => {
        const m = byId.get(id);
        return m && visible(m) ? [m] : [];
      });
      if (members.length === 0) continue;
      rows.push(
        <div class="group">
          <div class="group-name">
            {c.name} <span class={`st-${c.status}`}>({COMPONENT_STATUS_LABELS[c.status]})</span>
          </div>
          {members.map((m) => (
            <ComponentRow c={m} uptime={uptime.get(m.id)} />
          ))}
        </div>,
      );
    } else if (c.group_id === null && visible(c)) {
      rows.push(<ComponentRow c={c} uptime={uptime.get(c.id)} />);
    }
  }
  if (rows.length === 0) return <p class="muted">No components are listed.</p>;
  return <div class="card components">{rows}</div>;
}

/** A postmortem update links the published incident report (served live by Keepwarm). */
function ReportLink({
  update,
  incidentId,
  reports,
}: {
  update: { status: string };
  incidentId: string;
  reports: string | undefined;
}): SafeHtml {
  if (update.status !== 'postmortem' || !reports) return <Fragment />;
  return (
    <p class="report-link">
      <a href={`${reports}/${encodeURIComponent(incidentId)}/report`}>Read the incident report</a>
    </p>
  );
}

function Incident({ incident, level, reports }: { incident: SiteIncident; level: 'h3'; reports?: string | undefined }): SafeHtml {
  return (
    <article class={`card incident impact-${incident.impact}`} id={`incident-${incident.id}`}>
      {h(level, null, incident.name)}
      <p class="muted">
        {IMPACT_WORDS[incident.impact]}
        {incident.componentNames.length > 0 ? ` · Affects ${incident.componentNames.join(', ')}` : ''}
      </p>
      {incident.updates.map((u) => (
        <div class="update" id={`update-${u.id}`}>
          <strong>{STATUS_LABELS[u.status]}</strong> <span class="muted">— {<Time at={u.at} />}</span>
          <p>{u.body}</p>
          <ReportLink update={u} incidentId={incident.id} reports={reports} />
        </div>
      ))}
    </article>
  );
}

function PastIncidents({ incidents, reports }: { incidents: SiteIncident[]; reports?: string | undefined }): SafeHtml {
  const past = incidents.filter((i) => !i.open);
  if (past.length === 0) return <p class="muted">No incidents in the last 90 days.</p>;
  const byDay = new Map<string, SiteIncident[]>();
  for (const i of past) {
    const day = toIso(i.declaredAt).slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), i]);
  }
  const days = [...byDay.keys()].sort().reverse();
  return (
    <Fragment>
      {days.map((day) => (
        <section class="day">
          <h3>
            <time datetime={day}>{formatDay(day)}</time>
          </h3>
          {(byDay.get(day) ?? []).map((i) => (
            <div class="past" id={`incident-${i.id}`}>
              <strong>{i.name}</strong> <span class="muted">({STATUS_LABELS[i.status]})</span>
              {i.updates.map((u) => (
                <div class="update">
                  <strong>{STATUS_LABELS[u.status]}</strong> <span class="muted">— {<Time at={u.at} />}</span>
                  <p>{u.body}</p>
                  <ReportLink update={u} incidentId={i.id} reports={reports} />
                </div>
              ))}
            </div>
          ))}
        </section>
      ))}
    </Fragment>
  );
}

/** Content-Security-Policy of the page: no script at all, styles from the site's own CSS only. */
export function statusPageCsp(subscribeOrigin: string): string {
  return `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${subscribeOrigin}; base-uri 'none'`;
}

/** The public status page: works without JavaScript, every text escaped, no inline code. */
export function StatusPage(input: PageInput): SafeHtml {
  const { summary, links } = input;
  const open = input.incidents.filter((i) => i.open);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="Content-Security-Policy" content={statusPageCsp(links.subscribeOrigin)} />
        <title>{`${input.pageName}: ${summary.status.description}`}</title>
        <link rel="stylesheet" href={links.css} />
        <link rel="icon" type="image/svg+xml" href={links.icon} />
        <link rel="alternate" type="application/atom+xml" title={`${input.pageName} (Atom)`} href={links.atom} />
        <link rel="alternate" type="application/rss+xml" title={`${input.pageName} (RSS)`} href={links.rss} />
      </head>
      <body>
        <main>
          <h1>{input.pageName}</h1>
          <p class={`overall i-${summary.status.indicator}`} id="overall">
            {summary.status.description}
          </p>
          {input.fallbackUrl && open.length > 0 ? (
            <p class="card fallback">
              While we work on it, you can keep browsing: <a href={input.fallbackUrl}>{input.fallbackUrl}</a>
            </p>
          ) : null}
          {open.length > 0 ? (
            <section id="open-incidents">
              <h2>Current incidents</h2>
              {open.map((i) => (
                <Incident incident={i} level="h3" reports={links.reports} />
              ))}
            </section>
          ) : null}
          <section id="components">
            <h2>Components</h2>
            <Components summary={summary} uptime={input.uptime} />
          </section>
          <section id="past-incidents">
            <h2>Past incidents</h2>
            <PastIncidents incidents={input.incidents} reports={links.reports} />
          </section>
          <section id="subscribe" class="card">
            <h2>Get updates</h2>
            <form class="subscribe" method="post" action={links.subscribe}>
              <label for="subscribe-email">Email</label>
              <input id="subscribe-email" type="email" name="email" required autocomplete="email" />
              <button type="submit">Subscribe</button>
            </form>
            <p>
              Or follow the <a href={links.atom}>Atom feed</a>, the <a href={links.rss}>RSS feed</a> or the{' '}
              <a href={links.summaryJson}>JSON API</a>.
            </p>
          </section>
          <footer>
            Last updated <Time at={Date.parse(summary.page.updated_at) || input.now} />
          </footer>
        </main>
      </body>
    </html>
  );
}
