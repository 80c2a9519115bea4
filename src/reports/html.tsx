/**
 * The report as HTML with SVG charts, through the console's JSX runtime (every text escaped).
 * `ReportBody` is the article alone (the console's editor preview embeds it); `renderReportHtml`
 * is a standalone document whose only style is one inline block allowed by its hash
 * (REPORT_CSP), so it can be saved, mailed or served under a strict policy.
 */
import { createHash } from 'node:crypto';
import { Fragment, h, raw, renderDocument, type SafeHtml } from '../console/html.js';
import { toIso } from '../core/clock.js';
import { layoutBars, layoutTimeline, type Shapes } from './charts.js';
import { type BarChart, formatCount, formatTime, type ReportModel, type Table } from './report.js';

const CHART_WIDTH = 720;

function Svg({ shapes, label }: { shapes: Shapes; label: string }): SafeHtml {
  return (
    <svg
      class="chart"
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`0 0 ${shapes.width} ${shapes.height}`}
      width="100%"
      role="img"
      aria-label={label}
    >
      {shapes.rects.map((r) => (
        <rect x={r.x.toFixed(1)} y={r.y.toFixed(1)} width={r.w.toFixed(1)} height={r.h.toFixed(1)} fill={r.color}>
          {r.title ? <title>{r.title}</title> : null}
        </rect>
      ))}
      {shapes.lines.map((l) => (
        <line
          x1={l.x1.toFixed(1)}
          y1={l.y1.toFixed(1)}
          x2={l.x2.toFixed(1)}
          y2={l.y2.toFixed(1)}
          stroke={l.color}
          stroke-width="1"
        />
      ))}
      {shapes.labels.map((t) => (
        <text
          x={t.x.toFixed(1)}
          y={t.y.toFixed(1)}
          font-size={t.size}
          fill={t.color}
          text-anchor={t.anchor}
          font-family="Helvetica, Arial, sans-serif"
        >
          {t.text}
        </text>
      ))}
    </svg>
  );
}

function BarFigure({ chart }: { chart: BarChart }): SafeHtml {
  return (
    <figure>
      <Svg shapes={layoutBars(chart, CHART_WIDTH)} label={chart.title} />
      <figcaption>{chart.title}</figcaption>
    </figure>
  );
}

/** Text people wrote: blank lines make paragraphs, single newlines line breaks. */
export function Paragraphs({ text }: { text: string }): SafeHtml {
  const paragraphs = text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  return (
    <Fragment>
      {paragraphs.map((p) => (
        <p>{p.split(/\r?\n/).map((line, i) => (i === 0 ? line : [<br />, line]))}</p>
      ))}
    </Fragment>
  );
}

function Figures({ rows }: { rows: ReadonlyArray<{ label: string; value: string }> }): SafeHtml {
  return (
    <table class="figures">
      <tbody>
        {rows.map((f) => (
          <tr>
            <th scope="row">{f.label}</th>
            <td>{f.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DataTable({ table }: { table: Table }): SafeHtml {
  return (
    <table>
      <caption>{table.title}</caption>
      <thead>
        <tr>
          {table.columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.rows.map((r) => (
          <tr>
            {r.map((c) => (
              <td>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Actions({
  report,
  kind,
  heading,
}: {
  report: ReportModel;
  kind: 'remediation' | 'preventive';
  heading: string;
}): SafeHtml {
  const actions = report.actions.filter((a) => a.kind === kind);
  const withOwner = report.variant !== 'public';
  return (
    <section id={`report-${kind}`}>
      <h2>{heading}</h2>
      {actions.length === 0 ? (
        <p class="muted">None recorded yet.</p>
      ) : (
        <table class="actions">
          <thead>
            <tr>
              <th scope="col">Action</th>
              {withOwner ? <th scope="col">Owner</th> : null}
              <th scope="col">Due</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr class={a.overdue ? 'overdue' : undefined}>
                <td>{a.title}</td>
                {withOwner ? <td>{a.owner}</td> : null}
                <td>{a.due_date}</td>
                <td>{a.done ? 'done' : a.overdue ? 'overdue' : 'open'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The report itself (an <article>), for a standalone document or the editor's preview. */
export function ReportBody({ report }: { report: ReportModel }): SafeHtml {
  const status =
    report.state === 'published' && report.publishedAt !== null
      ? `Published ${formatTime(report.publishedAt)}`
      : 'Draft, not published';
  return (
    <article class="report" id="report">
      <h1>{report.title}</h1>
      <p class="muted" id="report-state">
        {status} · generated <time datetime={toIso(report.generatedAt)}>{formatTime(report.generatedAt)}</time>
        {report.open ? ' · the incident is still open: figures are provisional' : ''}
      </p>
      <p class="blameless">{report.blameless}</p>
      <section id="report-summary">
        <h2>Summary</h2>
        <Paragraphs text={report.summary} />
      </section>
      <section id="report-timeline">
        <h2>Timeline</h2>
        <figure>
          <Svg shapes={layoutTimeline(report.charts.timeline, CHART_WIDTH)} label="Incident phases over time" />
        </figure>
        {report.timeline.length > 0 ? (
          <ol class="timeline">
            {report.timeline.map((e) => (
              <li class={e.public ? 'public' : 'internal'}>
                <time datetime={toIso(e.at)}>{formatTime(e.at)}</time> {e.public ? '' : <span class="muted">(internal) </span>}
                {e.text}
              </li>
            ))}
          </ol>
        ) : null}
        {report.timelineOmitted > 0 ? <p class="muted">… {formatCount(report.timelineOmitted)} more entries not shown.</p> : null}
      </section>
      <section id="report-root-cause">
        <h2>Root cause</h2>
        {report.rootCause !== null ? <Paragraphs text={report.rootCause} /> : <p class="muted">{report.rootCausePrompt}</p>}
      </section>
      <section id="report-impact">
        <h2>Customer impact</h2>
        <Figures rows={report.service} />
        {report.pipeline.length > 0 ? (
          <Fragment>
            <h3>Pipeline</h3>
            <Figures rows={report.pipeline} />
          </Fragment>
        ) : null}
        {report.tables.map((t) => (
          <DataTable table={t} />
        ))}
        {report.charts.messages ? <BarFigure chart={report.charts.messages} /> : null}
        {report.charts.tiers ? <BarFigure chart={report.charts.tiers} /> : null}
      </section>
      <Actions report={report} kind="remediation" heading="Remediation" />
      <Actions report={report} kind="preventive" heading="Preventive actions" />
    </article>
  );
}

const STYLE = `body{font:15px/1.5 system-ui,Helvetica,Arial,sans-serif;color:#1f2937;margin:0;background:#f9fafb}
.report{max-width:820px;margin:0 auto;padding:24px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}h2{margin-top:1.6em;border-bottom:1px solid #e5e7eb}
.muted{color:#6b7280}.blameless{background:#eff6ff;padding:8px 12px;border-left:3px solid #2563eb}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
.figures th{width:32%;font-weight:600}caption{text-align:left;font-weight:600;padding:4px 0}
.timeline{padding-left:1.2em}.timeline li{margin:2px 0}.timeline .internal{color:#4b5563}
tr.overdue td{color:#b91c1c}figure{margin:12px 0}figcaption{color:#6b7280;font-size:.9em}
@media print{body{background:#fff}.report{padding:0}}`;

/** The style block's hash, for a CSP that allows it and nothing else. */
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;
export const REPORT_CSP = `default-src 'none'; style-src ${STYLE_HASH}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export function renderReportHtml(report: ReportModel): string {
  return renderDocument(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{report.title}</title>
        {h('style', null, raw(STYLE))}
      </head>
      <body>
        <ReportBody report={report} />
      </body>
    </html>,
  );
}
