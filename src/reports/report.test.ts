import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { describeNeeding } from '../../test/harness/env.js';
import { HOUR, MINUTE } from '../core/clock.js';
import type { TimelineEvent } from '../incidents/incidents.repo.js';
import { cadenceFigures, cadenceRules } from '../status/cadence/cadence.js';
import { renderReportHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderReportPdf } from './pdf.js';
import { buildReport, EMPTY_EDITS, formatDuration, type ReportEdits, type ReportFacts, type ReportModel } from './report.js';

const T0 = Date.parse('2026-01-15T09:00:00Z');
const RULES = cadenceRules({ acknowledgeMinutes: 15, promiseMinutes: 60, targetMinutes: 30, remindMinutesBefore: 5 });

function event(at: number, type: string, data: Record<string, unknown>, isPublic = false, actorType = 'user'): TimelineEvent {
  return {
    id: `e${at}-${type}`,
    incidentId: 'inc-1',
    at,
    type,
    actor: { type: actorType, id: 'u1', name: 'Dana Commander' },
    public: isPublic,
    data,
  };
}

/** A fixed incident: started 08:50, declared 09:00, acknowledged 09:12, updates at 10:00 and 11:30 (a 90 min gap), resolved 11:30. */
function facts(overrides: Partial<ReportFacts> = {}): ReportFacts {
  const updates = [T0 + 12 * MINUTE, T0 + 60 * MINUTE, T0 + 150 * MINUTE];
  const events: TimelineEvent[] = [
    event(T0, 'incident.declared', { status: 'investigating', impact: 'major', scope: ['eu-west'] }),
    event(T0 + 2 * MINUTE, 'crm.leads_tagged', { message: 'CRM: 6 leads tagged', tiers: { A: 1, B: 2, C: 3 } }, false, 'system'),
    event(
      updates[0] as number,
      'update.published',
      {
        status: 'investigating',
        message: 'Product pages are down <b>for some</b>.',
        affected_components: [{ id: 'cdn', name: 'Showroom CDN', old_status: 'operational', new_status: 'major_outage' }],
      },
      true,
    ),
    event(T0 + 20 * MINUTE, 'note.added', { message: 'Vendor ticket opened' }),
    event(T0 + 30 * MINUTE, 'crm.task_outcome', { message: 'Call to Ann: demo booked', outcome: 'demo_booked' }),
    event(
      updates[1] as number,
      'update.published',
      { status: 'identified', message: 'Found it.', affected_components: [] },
      true,
    ),
    event(
      updates[2] as number,
      'update.published',
      {
        status: 'resolved',
        message: 'Back.',
        affected_components: [{ id: 'cdn', name: 'Showroom CDN', old_status: 'major_outage', new_status: 'operational' }],
      },
      true,
    ),
  ];
  return {
    incident: {
      id: 'inc-1',
      name: 'Product pages down',
      status: 'resolved',
      impact: 'major',
      drill: false,
      scope: ['eu-west'],
      startedAt: T0 - 10 * MINUTE,
      detectedAt: T0 - 4 * MINUTE,
      declaredAt: T0,
      acknowledgedAt: updates[0] as number,
      monitoringAt: null,
      resolvedAt: updates[2] as number,
    },
    components: [{ id: 'cdn', name: 'Showroom CDN', status: 'operational' }],
    events,
    cadence: cadenceFigures({ declaredAt: T0, updates, resolvedAt: updates[2] as number }, RULES, T0 + 10 * HOUR),
    promiseMs: RULES.promiseMs,
    tagged: { A: 1, B: 2, C: 3 },
    pipeline: {
      A: { leads: 1, arr: 40_000, reEngaged: 1, reEngagedArr: 40_000 },
      B: { leads: 2, arr: 20_000, reEngaged: 1, reEngagedArr: 8_000 },
      C: { leads: 3, arr: 3_000, reEngaged: 0, reEngagedArr: 0 },
    },
    tasks: { calls: 2, callsLogged: 2, reached: 1, voicemail: 0, noAnswer: 0, demosBooked: 1, followups: 2 },
    messages: {
      byChannel: [
        { channel: 'email', total: 5, sent: 4, failed: 1, suppressed: 0 },
        { channel: 'sms', total: 2, sent: 2, failed: 0, suppressed: 0 },
      ],
      overTime: { from: T0 - 10 * MINUTE, bucketMs: 10 * MINUTE, counts: [0, 3, 2, 2] },
    },
    orders: { count: 2, units: 15, companies: 2, unknownSkus: 1 },
    conversations: { count: 3, withLead: 2 },
    ...overrides,
  };
}

const DRAFT = { state: 'draft' as const, publishedAt: null, revision: 0, updatedAt: null };
const NOW = T0 + 10 * HOUR;

function figure(model: ReportModel, label: string): string | undefined {
  return [...model.service, ...model.pipeline].find((f) => f.label === label)?.value;
}

describe('report model', () => {
  test('the figures come from the fixed timeline', () => {
    const model = buildReport(facts(), EMPTY_EDITS, DRAFT, { now: NOW, variant: 'full' });
    expect(figure(model, 'Duration')).toBe('2 h 40 min');
    expect(figure(model, 'Time to detect')).toBe('6 min');
    expect(figure(model, 'Time to acknowledge')).toBe('12 min');
    expect(figure(model, 'Longest update gap')).toBe('1 h 30 min');
    expect(figure(model, 'Late updates')).toBe('1 (gaps over the 1 h promise)');
    expect(figure(model, 'Public updates')).toBe('3');
    expect(figure(model, 'Components')).toBe('Showroom CDN (major outage)');
    expect(figure(model, 'Regions')).toBe('eu-west');
    expect(figure(model, 'Leads tagged')).toBe('6 (Tier A 1, B 2, C 3)');
    expect(figure(model, 'Demos booked')).toBe('1');
    expect(figure(model, 'Purchase orders (mirror)')).toBe('2 from 2 companies, 15 units, 1 unknown SKUs');
    expect(figure(model, 'Re-engaged leads')).toBe('2 (33.3% of tagged)');
    expect(figure(model, 'Pipeline ARR at risk')).toBe('$63,000');
    expect(figure(model, 'Pipeline ARR engaged')).toBe('$48,000 (76.2%)');
    expect(model.tables.find((t) => t.title === 'Messages per channel')?.rows).toEqual([
      ['email', '5', '4', '1', '0'],
      ['sms', '2', '2', '0', '0'],
    ]);
    expect(model.summary).toContain('Showroom CDN (major outage) was affected in eu-west for 2 h 40 min.');
    expect(model.summary).toContain('Of $63,000 of pipeline ARR at risk, $48,000 (76.2%) engaged again.');
    expect(model.rootCause).toBeNull();
  });

  test('the timeline lists what happened, without names and without each call outcome', () => {
    const model = buildReport(facts(), EMPTY_EDITS, DRAFT, { now: NOW, variant: 'full' });
    const texts = model.timeline.map((e) => e.text);
    expect(texts[0]).toBe('Impact began.');
    expect(texts[1]).toBe('Outage detected.');
    expect(texts).toContain('Internal note: Vendor ticket opened');
    expect(texts.some((t) => t.includes('demo booked'))).toBe(false);
    expect(texts.join(' ')).not.toContain('Dana Commander');
    expect(model.charts.timeline.segments.map((s) => s.key)).toEqual(['undeclared', 'investigating', 'identified']);
  });

  test('the public variant leaves out sales figures, internal entries and owners', () => {
    const edits: ReportEdits = {
      summary: null,
      rootCause: 'A CDN config push.',
      actions: [{ kind: 'preventive', title: 'Second CDN', owner: 'Sam Ops', due_date: '2026-02-01', done: false }],
    };
    const model = buildReport(facts(), edits, DRAFT, { now: NOW, variant: 'public' });
    expect(model.pipeline).toEqual([]);
    expect(model.charts.tiers).toBeNull();
    expect(model.timeline.every((e) => e.public)).toBe(true);
    expect(model.summary).not.toContain('$');
    const html = renderReportHtml(model);
    expect(html).not.toContain('Sam Ops');
    expect(html).toContain('Second CDN');
  });

  test('written text replaces the generated summary; overdue actions are flagged', () => {
    const edits: ReportEdits = {
      summary: '  Our own words.  ',
      rootCause: 'Expired cert',
      actions: [
        { kind: 'remediation', title: 'Renew', owner: 'Ops', due_date: '2026-01-14', done: false },
        { kind: 'remediation', title: 'Alert', owner: 'Ops', due_date: '2026-01-14', done: true },
      ],
    };
    const model = buildReport(facts(), edits, DRAFT, { now: NOW, variant: 'full' });
    expect(model.summary).toBe('Our own words.');
    expect(model.summaryGenerated).toBe(false);
    expect(model.actions.map((a) => a.overdue)).toEqual([true, false]);
  });

  test('durations read well', () => {
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(90 * MINUTE)).toBe('1 h 30 min');
    expect(formatDuration(50 * HOUR)).toBe('2 d 2 h');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('report renderers', () => {
  const hostile: ReportEdits = {
    summary: '<script>alert(1)</script> & "quotes"',
    rootCause: 'A | pipe\nand <img src=x onerror=alert(1)>',
    actions: [{ kind: 'remediation', title: 'Fix <b>it</b> | now', owner: 'Ops & Co', due_date: '2026-02-01', done: false }],
  };

  test('HTML escapes everything people wrote and draws the charts as SVG', () => {
    const html = renderReportHtml(buildReport(facts(), hostile, DRAFT, { now: NOW, variant: 'full' }));
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('Fix &lt;b&gt;it&lt;/b&gt; | now');
    expect(html).toContain('Product pages are down &lt;b&gt;for some&lt;/b&gt;.');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('<style>');
  });

  test('Markdown keeps the sections and cannot break its tables', () => {
    const md = renderMarkdown(buildReport(facts(), hostile, DRAFT, { now: NOW, variant: 'full' }));
    for (const heading of [
      '# Incident report: Product pages down',
      '## Summary',
      '## Timeline',
      '## Root cause',
      '## Customer impact',
      '## Remediation',
      '## Preventive actions',
    ]) {
      expect(md).toContain(heading);
    }
    expect(md).toContain('| Fix <b>it</b> \\| now | Ops & Co | 2026-02-01 | open |');
    expect(md).toContain('| Time to acknowledge | 12 min |');
    expect(md).toContain('| email | 5 | 4 | 1 | 0 |');
  });

  test('the executive variant is short', () => {
    const model = buildReport(facts(), hostile, DRAFT, { now: NOW, variant: 'executive' });
    expect(model.title).toBe('Executive summary: Product pages down');
    expect(model.timeline).toEqual([]);
    expect(model.tables).toEqual([]);
    expect(renderReportPdf(model).pages).toBe(1);
  });
});

const PDFTOTEXT = process.env.KEEPWARM_TEST_PDFTOTEXT ?? 'pdftotext';
const pdftotextMissing =
  spawnSync(PDFTOTEXT, ['-v'], { stdio: 'ignore' }).error === undefined
    ? null
    : `${PDFTOTEXT} not found (apt-get install poppler-utils)`;

describe('report PDF', () => {
  test('is a PDF with numbered pages, the same bytes for the same input', () => {
    const model = buildReport(facts(), EMPTY_EDITS, DRAFT, { now: NOW, variant: 'full' });
    const a = renderReportPdf(model);
    expect(a.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(a.pages).toBeGreaterThanOrEqual(1);
    expect(renderReportPdf(model).pdf.equals(a.pdf)).toBe(true);
  });
});

describeNeeding('pdftotext', pdftotextMissing, 'report PDF text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keepwarm-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('has the sections, the figures and the text people wrote, on every page', () => {
    const many: TimelineEvent[] = Array.from({ length: 120 }, (_, i) =>
      event(T0 + 13 * MINUTE + i * 1000, 'note.added', { message: `Observation number ${i}` }),
    );
    const f = facts();
    const model = buildReport(
      { ...f, events: [...f.events, ...many].sort((a, b) => a.at - b.at) },
      {
        summary: null,
        rootCause: 'The CDN’s TLS certificate expired.',
        actions: [
          { kind: 'preventive', title: 'Alert 14 days before expiry', owner: 'Sam Ops', due_date: '2026-02-01', done: false },
        ],
      },
      DRAFT,
      { now: NOW, variant: 'full' },
    );
    const rendered = renderReportPdf(model);
    const file = join(dir, 'report.pdf');
    writeFileSync(file, rendered.pdf);
    const text = execFileSync(PDFTOTEXT, ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    const pages = text.split('\f').filter((p) => p.trim() !== '');
    expect(pages.length).toBe(rendered.pages);
    expect(rendered.pages).toBeGreaterThan(1);
    expect(text).toContain('Incident report: Product pages down');
    expect(text).toContain('Root cause');
    expect(text).toContain('The CDN’s TLS certificate expired.');
    expect(text).toContain('Time to acknowledge');
    expect(text).toContain('Observation number 119');
    expect(text).toContain('Alert 14 days before expiry');
    expect(text).toContain(`page ${rendered.pages} of ${rendered.pages}`);
    expect(text).toContain('Pipeline per tier: ARR at risk vs engaged');
  });
});
