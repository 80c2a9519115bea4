/**
 * RFC 4180 CSV, streaming: quoted fields with doubled quotes, commas and line breaks inside
 * quotes, CRLF / LF / CR line ends, a UTF-8 byte order mark. Blank lines are skipped. A quote in
 * the middle of an unquoted field is kept as a character (exports from spreadsheets do that).
 */
import { defuseCsvCell } from '../../core/csv.js';

export class CsvSyntaxError extends Error {
  readonly row: number;
  constructor(row: number, message: string) {
    super(message);
    this.name = 'CsvSyntaxError';
    this.row = row;
  }
}

export interface CsvRecord {
  /** 1-based record number in the file (the header is record 1). */
  row: number;
  cells: string[];
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

/** Incremental parser: feed text chunks, take the complete records after each. */
export class CsvParser {
  private field = '';
  private cells: string[] = [];
  private inQuotes = false;
  /** After a closing quote: the next character must end the field. */
  private afterQuote = false;
  /** The field started: an empty unquoted last field still counts. */
  private fieldStarted = false;
  private skipLf = false;
  private started = false;
  private row = 0;
  private out: CsvRecord[] = [];

  push(chunk: string): CsvRecord[] {
    let text = chunk;
    if (!this.started) {
      if (text.length === 0) return [];
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.skipLf) {
        this.skipLf = false;
        if (text.charCodeAt(i) === LF) {
          i++;
          continue;
        }
      }
      if (this.pendingQuote) {
        // The previous chunk ended on a quote inside a quoted field: doubled, or the closing one.
        this.pendingQuote = false;
        if (text.charCodeAt(i) === QUOTE) {
          this.field += '"';
          i++;
        } else {
          this.inQuotes = false;
          this.afterQuote = true;
        }
        continue;
      }
      if (this.inQuotes) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          this.field += text.slice(i);
          i = n;
          break;
        }
        this.field += text.slice(i, q);
        if (q + 1 >= n) {
          // The quote is the chunk's last character: it may be the first of a doubled pair.
          this.pendingQuote = true;
          i = n;
          break;
        }
        if (text.charCodeAt(q + 1) === QUOTE) {
          this.field += '"';
          i = q + 2;
        } else {
          this.inQuotes = false;
          this.afterQuote = true;
          i = q + 1;
        }
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        this.cells.push(this.field);
        this.field = '';
        this.fieldStarted = true;
        this.afterQuote = false;
        i++;
      } else if (c === LF || c === CR) {
        this.endRecord();
        if (c === CR) this.skipLf = true;
        i++;
      } else if (c === QUOTE && this.field === '' && !this.afterQuote) {
        this.inQuotes = true;
        this.fieldStarted = true;
        i++;
      } else {
        // Plain run up to the next delimiter.
        let j = i + 1;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === COMMA || d === LF || d === CR) break;
          j++;
        }
        this.field += text.slice(i, j);
        this.fieldStarted = true;
        i = j;
      }
    }
    const done = this.out;
    this.out = [];
    return done;
  }

  private pendingQuote = false;

  /** The end of the input: the last record, or an error for an unterminated quote. */
  end(): CsvRecord[] {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.inQuotes = false;
    }
    if (this.inQuotes)
      throw new CsvSyntaxError(this.row + 1, `row ${this.row + 1}: a quoted field is not closed before the end of the file`);
    this.endRecord();
    const done = this.out;
    this.out = [];
    return done;
  }

  private endRecord(): void {
    if (this.fieldStarted || this.field !== '' || this.cells.length > 0) {
      this.cells.push(this.field);
      this.row++;
      this.out.push({ row: this.row, cells: this.cells });
    }
    this.cells = [];
    this.field = '';
    this.fieldStarted = false;
    this.afterQuote = false;
  }
}

/** Parse a whole text (tests, small API bodies). */
export function parseCsv(text: string): CsvRecord[] {
  const p = new CsvParser();
  return [...p.push(text), ...p.end()];
}

/** One cell for a CSV file: quoted when needed; formula-looking text defused with a leading '. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? defuseCsvCell(value) : String(value);
  if (/[",\r\n]/.test(s) || s.startsWith("'")) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
