/**
 * The report as an A4 PDF through the shared PdfWriter (src/fallback/pdf/document.ts): the same
 * sections as the HTML, with the charts drawn as vector shapes from the same layout (charts.ts).
 */
import { A4, FONT, FONT_BOLD, PdfWriter } from '../fallback/pdf/document.js';
import { layoutBars, layoutTimeline, type Shapes } from './charts.js';
import { formatCount, formatTime, type ReportModel, type Table } from './report.js';

const MARGIN = 48;
const WIDTH = A4.width - 2 * MARGIN;
const LIMIT = A4.height - 56;
const INK = '#1f2937';
const GREY = '#6b7280';
const RULE = '#e5e7eb';

export interface RenderedReportPdf {
  pdf: Buffer;
  pages: number;
  unsupportedCharacters: number;
}

class Flow {
  readonly w: PdfWriter;
  y = MARGIN;

  constructor(w: PdfWriter) {
    this.w = w;
    // Keep every page until the end, to number them "page n of N" (pdfkit may add pages itself
    // while flowing a long block of text).
    (w.doc as unknown as { options: { bufferPages: boolean } }).options.bufferPages = true;
  }

  get doc(): PDFKit.PDFDocument {
    return this.w.doc;
  }

  newPage(): void {
    this.doc.addPage();
    this.y = MARGIN;
  }

  /** Number the pages; returns how many there are. */
  footers(title: string): number {
    const { doc } = this;
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      doc.font(FONT).fontSize(8).fillColor(GREY);
      this.w.line(`${title} \u00b7 page ${i - range.start + 1} of ${range.count}`, MARGIN, A4.height - 36, WIDTH);
    }
    return range.count;
  }

  ensure(height: number): void {
    if (this.y + height > LIMIT) this.newPage();
  }

  heading(text: string, size = 14): void {
    this.ensure(size + 30);
    this.y += 8;
    this.doc.font(FONT_BOLD).fontSize(size).fillColor(INK);
    this.w.line(text, MARGIN, this.y, WIDTH);
    this.y += size + 4;
    this.doc
      .moveTo(MARGIN, this.y)
      .lineTo(MARGIN + WIDTH, this.y)
      .lineWidth(0.5)
      .strokeColor(RULE)
      .stroke();
    this.y += 6;
  }

  /** Wrapped text; a block taller than what is left of the page starts a new one. */
  paragraph(text: string, options: { size?: number; color?: string; bold?: boolean; indent?: number } = {}): void {
    const { doc } = this;
    const size = options.size ?? 10;
    const indent = options.indent ?? 0;
    doc
      .font(options.bold ? FONT_BOLD : FONT)
      .fontSize(size)
      .fillColor(options.color ?? INK);
    const shown = this.w.fold(text);
    const height = doc.heightOfString(shown, { width: WIDTH - indent, lineGap: 1 });
    if (height < LIMIT - MARGIN) this.ensure(height);
    doc.text(shown, MARGIN + indent, this.y, { width: WIDTH - indent, lineGap: 1 });
    // pdfkit may have flowed onto new pages of its own for a very long block.
    this.y = doc.y + 4;
  }

  /** Label | value rows (the figures). */
  rows(rows: ReadonlyArray<{ label: string; value: string }>): void {
    const { doc } = this;
    const labelW = 150;
    for (const r of rows) {
      doc.font(FONT).fontSize(9);
      const value = this.w.fold(r.value);
      const height = Math.max(12, doc.heightOfString(value, { width: WIDTH - labelW })) + 3;
      this.ensure(height);
      doc.font(FONT_BOLD).fillColor(INK);
      this.w.line(r.label, MARGIN, this.y, labelW - 8);
      doc.font(FONT).fillColor(INK);
      doc.text(value, MARGIN + labelW, this.y, { width: WIDTH - labelW });
      this.y += height;
    }
  }

  table(t: Table): void {
    const { doc } = this;
    const colW = WIDTH / t.columns.length;
    this.ensure(30);
    doc.font(FONT_BOLD).fontSize(10).fillColor(INK);
    this.w.line(t.title, MARGIN, this.y, WIDTH);
    this.y += 15;
    const row = (cells: readonly string[], bold: boolean) => {
      this.ensure(13);
      doc
        .font(bold ? FONT_BOLD : FONT)
        .fontSize(9)
        .fillColor(INK);
      for (const [i, c] of cells.entries()) this.w.line(c, MARGIN + i * colW, this.y, colW - 6);
      this.y += 13;
    };
    row(t.columns, true);
    for (const r of t.rows) row(r, false);
    this.y += 6;
  }

  shapes(shapes: Shapes, caption: string | null): void {
    const { doc } = this;
    const scale = WIDTH / shapes.width;
    const height = shapes.height * scale + (caption ? 14 : 0);
    this.ensure(height + 6);
    const ox = MARGIN;
    const oy = this.y;
    for (const r of shapes.rects) {
      if (r.h <= 0) continue;
      doc.rect(ox + r.x * scale, oy + r.y * scale, r.w * scale, r.h * scale).fill(r.color);
    }
    for (const l of shapes.lines) {
      doc
        .moveTo(ox + l.x1 * scale, oy + l.y1 * scale)
        .lineTo(ox + l.x2 * scale, oy + l.y2 * scale)
        .lineWidth(0.6)
        .strokeColor(l.color)
        .stroke();
    }
    doc.font(FONT);
    for (const t of shapes.labels) {
      const size = t.size * scale;
      doc.fontSize(size).fillColor(t.color);
      const text = this.w.fold(t.text);
      const width = doc.widthOfString(text);
      const x = ox + t.x * scale - (t.anchor === 'middle' ? width / 2 : t.anchor === 'end' ? width : 0);
      doc.text(text, x, oy + t.y * scale - size * 0.8, { lineBreak: false });
    }
    this.y = oy + shapes.height * scale + 4;
    if (caption) {
      doc.font(FONT).fontSize(8).fillColor(GREY);
      this.w.line(caption, MARGIN, this.y, WIDTH);
      this.y += 14;
    }
  }
}

export function renderReportPdf(report: ReportModel): RenderedReportPdf {
  const w = new PdfWriter({ title: report.title, subject: 'Incident report', generatedAt: new Date(report.generatedAt) });
  const f = new Flow(w);
  const doc = w.doc;

  doc.font(FONT_BOLD).fontSize(18).fillColor(INK);
  doc.text(w.fold(report.title), MARGIN, f.y, { width: WIDTH });
  f.y = doc.y + 2;
  const status =
    report.state === 'published' && report.publishedAt !== null
      ? `Published ${formatTime(report.publishedAt)}`
      : 'Draft, not published';
  f.paragraph(
    `${status} · generated ${formatTime(report.generatedAt)}${report.open ? ' · the incident is still open: figures are provisional' : ''}`,
    { size: 9, color: GREY },
  );
  f.paragraph(report.blameless, { size: 9, color: '#1e3a8a' });

  f.heading('Summary');
  f.paragraph(report.summary);

  f.heading('Timeline');
  f.shapes(layoutTimeline(report.charts.timeline, 720), null);
  for (const e of report.timeline) {
    f.paragraph(`${formatTime(e.at)}${e.public ? '' : ' (internal)'}  ${e.text}`, { size: 9, color: e.public ? INK : '#4b5563' });
  }
  if (report.timelineOmitted > 0)
    f.paragraph(`… ${formatCount(report.timelineOmitted)} more entries not shown.`, { size: 9, color: GREY });

  f.heading('Root cause');
  if (report.rootCause !== null) f.paragraph(report.rootCause);
  else f.paragraph(report.rootCausePrompt, { color: GREY });

  f.heading('Customer impact');
  f.rows(report.service);
  if (report.pipeline.length > 0) {
    f.heading('Pipeline', 12);
    f.rows(report.pipeline);
  }
  for (const t of report.tables) f.table(t);
  if (report.charts.messages) f.shapes(layoutBars(report.charts.messages, 720), report.charts.messages.title);
  if (report.charts.tiers) f.shapes(layoutBars(report.charts.tiers, 720), report.charts.tiers.title);

  for (const [kind, heading] of [
    ['remediation', 'Remediation'],
    ['preventive', 'Preventive actions'],
  ] as const) {
    f.heading(heading);
    const actions = report.actions.filter((a) => a.kind === kind);
    if (actions.length === 0) {
      f.paragraph('None recorded yet.', { color: GREY });
      continue;
    }
    const withOwner = report.variant !== 'public';
    f.table({
      title: `${actions.length} action${actions.length === 1 ? '' : 's'}`,
      columns: withOwner ? ['Action', 'Owner', 'Due', 'State'] : ['Action', 'Due', 'State'],
      rows: actions.map((a) => {
        const state = a.done ? 'done' : a.overdue ? 'overdue' : 'open';
        return withOwner ? [a.title, a.owner, a.due_date, state] : [a.title, a.due_date, state];
      }),
    });
  }
  const pages = f.footers(report.title);
  return { pdf: w.finish(), pages, unsupportedCharacters: w.unsupportedCharacters };
}
