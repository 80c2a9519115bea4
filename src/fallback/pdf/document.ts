/**
 * The pdfkit plumbing shared by spec sheets, product packs and comparison PDFs: a document whose
 * bytes depend only on its input (fixed creation date, so the file ID, which pdfkit derives from the
 * info dictionary, is fixed too), text folded to what the built-in fonts can show, and the finished
 * bytes collected synchronously (pdfkit writes everything during end()).
 */
import PDFDocument from 'pdfkit';
import { foldToWinAnsi } from './winansi.js';

export const A4 = { width: 595.28, height: 841.89 } as const;
export const FONT = 'Helvetica';
export const FONT_BOLD = 'Helvetica-Bold';

export interface PdfInfo {
  title: string;
  subject?: string;
  /** Becomes CreationDate and ModDate; the only date in the file. */
  generatedAt: Date;
}

/**
 * pdfkit builds a new font object for every document, parsing Helvetica's metrics and some 2,700
 * kerning pairs each time: most of the cost of a one-page sheet. The metrics never change, so
 * each font is built once per process (from a scratch document) and every document gets a shallow
 * copy with its own document, resource id and PDF object; kerning lookups use a nested table
 * instead of building a string key per glyph pair. This relies on pdfkit internals
 * (_fontFamilies, _fontCount, StandardFont's fields), pinned by the tests (same text, same bytes).
 */
interface StandardFontInternals {
  document: unknown;
  id: string;
  dictionary: unknown;
  embedded: boolean;
  font: { kernPairs: Record<string, number>; getKernPair(left: string, right: string): number };
}
interface DocumentInternals {
  _font: StandardFontInternals;
  _fontFamilies: Record<string, StandardFontInternals>;
  _fontCount: number;
}

const fontTemplates = new Map<string, StandardFontInternals>();

function fontTemplate(name: string): StandardFontInternals {
  let template = fontTemplates.get(name);
  if (template === undefined) {
    const scratch = new PDFDocument({ font: name, autoFirstPage: false }) as unknown as DocumentInternals;
    template = scratch._font;
    const afm = template.font;
    const kern = new Map<string, Map<string, number>>();
    for (const [pair, amount] of Object.entries(afm.kernPairs)) {
      const [left, right] = pair.split('\0') as [string, string];
      let row = kern.get(left);
      if (row === undefined) {
        row = new Map();
        kern.set(left, row);
      }
      row.set(right, amount);
    }
    afm.getKernPair = (left: string, right: string): number => kern.get(left)?.get(right) ?? 0;
    fontTemplates.set(name, template);
  }
  return template;
}

function installSharedFonts(doc: PDFKit.PDFDocument): void {
  const internals = doc as unknown as DocumentInternals;
  let count = 0;
  for (const name of [FONT, FONT_BOLD]) {
    const template = fontTemplate(name);
    const font = Object.assign(Object.create(Object.getPrototypeOf(template)) as object, template, {
      document: doc,
      id: `F${++count}`,
      dictionary: null,
      embedded: false,
    }) as StandardFontInternals;
    internals._fontFamilies[name] = font;
  }
  internals._fontCount = count;
  doc.font(FONT);
}

/** A pdfkit document plus the count of characters the fonts could not show. */
export class PdfWriter {
  readonly doc: PDFKit.PDFDocument;
  unsupportedCharacters = 0;

  constructor(info: PdfInfo, layout: 'portrait' | 'landscape' = 'portrait') {
    this.doc = new PDFDocument({
      size: 'A4',
      layout,
      // The footer sits inside the page; a small bottom margin keeps pdfkit from adding a page for it.
      margins: { top: 48, left: 48, right: 48, bottom: 16 },
      compress: true,
      autoFirstPage: true,
      // No default font: the shared ones are installed below instead.
      font: '',
      info: {
        // Info strings are written as UTF-16 by pdfkit: no folding needed there.
        Title: info.title,
        ...(info.subject !== undefined ? { Subject: info.subject } : {}),
        Producer: 'Keepwarm',
        Creator: 'Keepwarm',
        CreationDate: info.generatedAt,
        ModDate: info.generatedAt,
      },
    });
    installSharedFonts(this.doc);
  }

  /** Text as the built-in fonts can show it; unsupported characters are counted. */
  fold(text: string): string {
    const folded = foldToWinAnsi(text);
    this.unsupportedCharacters += folded.replaced;
    return folded.text;
  }

  /**
   * One line of text, cut with an ellipsis to maxWidth. Drawn without pdfkit's line wrapper
   * (which is most of the cost of a short cell); the width is measured only when the text could
   * overflow (no Helvetica glyph is wider than the font size).
   */
  line(text: string, x: number, y: number, maxWidth: number): void {
    const doc = this.doc;
    let shown = this.fold(text);
    const size = (doc as unknown as { _fontSize: number })._fontSize;
    if (shown.length * size > maxWidth && doc.widthOfString(shown) > maxWidth) {
      let low = 0;
      let high = shown.length;
      while (low < high) {
        const mid = (low + high + 1) >> 1;
        if (doc.widthOfString(`${shown.slice(0, mid).trimEnd()}\u2026`) <= maxWidth) low = mid;
        else high = mid - 1;
      }
      shown = `${shown.slice(0, low).trimEnd()}\u2026`;
    }
    doc.text(shown, x, y, { lineBreak: false });
  }

  finish(): Buffer {
    const doc = this.doc;
    doc.end();
    const chunks: Buffer[] = [];
    for (let chunk = doc.read() as Buffer | null; chunk !== null; chunk = doc.read() as Buffer | null) chunks.push(chunk);
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  }
}

/** "2026-03-04 09:05 UTC": the date printed on sheets (UTC, so it does not depend on the machine). */
export function formatGeneratedAt(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Cut at a word boundary and end with an ellipsis when longer than max characters. */
export function excerpt(text: string, max: number): string {
  const clean = text.replace(/\s*\n\s*\n\s*/g, '\n').trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, '')}\u2026`;
}
