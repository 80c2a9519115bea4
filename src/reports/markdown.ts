/**
 * The report as Markdown (plain text that reads well unrendered): headings, a figures table per
 * section, the timeline as a list, the charts as small tables. Text people wrote is kept as is,
 * except that table cells cannot break the table (pipes and newlines are escaped).
 */
import { type BarChart, formatCount, formatMoney, formatTime, type ReportModel, type Table } from './report.js';

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${columns.map(cell).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function chartTable(chart: BarChart): string[] {
  const fmt = chart.format === 'money' ? formatMoney : formatCount;
  return [
    `**${chart.title}**`,
    '',
    ...table(
      ['', ...chart.series.map((s) => s.name)],
      chart.categories.map((c, i) => [c, ...chart.series.map((s) => fmt(s.values[i] ?? 0))]),
    ),
    '',
  ];
}

function tableBlock(t: Table): string[] {
  return [`### ${t.title}`, '', ...table(t.columns, t.rows), ''];
}

export function renderMarkdown(report: ReportModel): string {
  const lines: string[] = [`# ${report.title}`, ''];
  const status =
    report.state === 'published' && report.publishedAt !== null
      ? `Published ${formatTime(report.publishedAt)}`
      : 'Draft, not published';
  lines.push(
    `_${status} · generated ${formatTime(report.generatedAt)}${report.open ? ' · the incident is still open: figures are provisional' : ''}_`,
    '',
  );
  lines.push(`> ${report.blameless}`, '');
  lines.push('## Summary', '', report.summary, '');

  const chart = report.charts.timeline;
  lines.push('## Timeline', '');
  if (report.variant !== 'executive') {
    for (const e of report.timeline) {
      lines.push(`- **${formatTime(e.at)}**${e.public ? '' : ' _(internal)_'} ${e.text.replace(/\r?\n+/g, ' ')}`);
    }
    if (report.timelineOmitted > 0) lines.push(`- … ${formatCount(report.timelineOmitted)} more entries not shown`);
    lines.push('');
  }
  lines.push(
    ...table(
      ['Phase', 'From', 'To'],
      chart.segments.map((s) => [s.label, formatTime(s.from), formatTime(s.to)]),
    ),
    '',
  );

  lines.push('## Root cause', '', report.rootCause ?? `_${report.rootCausePrompt}_`, '');

  lines.push(
    '## Customer impact',
    '',
    ...table(
      ['Figure', 'Value'],
      report.service.map((f) => [f.label, f.value]),
    ),
    '',
  );
  if (report.pipeline.length > 0) {
    lines.push(
      '### Pipeline',
      '',
      ...table(
        ['Figure', 'Value'],
        report.pipeline.map((f) => [f.label, f.value]),
      ),
      '',
    );
  }
  for (const t of report.tables) lines.push(...tableBlock(t));
  if (report.charts.messages) lines.push(...chartTable(report.charts.messages));
  if (report.charts.tiers) lines.push(...chartTable(report.charts.tiers));

  for (const [kind, heading] of [
    ['remediation', 'Remediation'],
    ['preventive', 'Preventive actions'],
  ] as const) {
    const actions = report.actions.filter((a) => a.kind === kind);
    lines.push(`## ${heading}`, '');
    if (actions.length === 0) {
      lines.push('_None recorded yet._', '');
      continue;
    }
    const withOwner = report.variant !== 'public';
    lines.push(
      ...table(
        withOwner ? ['Action', 'Owner', 'Due', 'State'] : ['Action', 'Due', 'State'],
        actions.map((a) => {
          const state = a.done ? 'done' : a.overdue ? 'overdue' : 'open';
          return withOwner ? [a.title, a.owner, a.due_date, state] : [a.title, a.due_date, state];
        }),
      ),
      '',
    );
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
