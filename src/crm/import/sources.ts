import { CsvParser, type CsvRecord, CsvSyntaxError } from './csv.js';

/**
 * What an import reads: records with their 1-based number in the file (CSV: the header is row 1;
 * JSON: the first element or line is row 1) and their cells under a header. A record that cannot
 * be read at all comes with `error`.
 */
export interface SourceRecord {
  row: number;
  header: readonly string[];
  cells: readonly unknown[];
  error?: { column: string; message: string };
}

export type ImportFormat = 'csv' | 'json';

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

function asIterable(input: string | AsyncIterable<string | Buffer>): AsyncIterable<string | Buffer> {
  return typeof input === 'string' ? once(input) : input;
}

/** CSV records in batches (one await per chunk of the file, not per row). */
export async function* csvSource(input: string | AsyncIterable<string | Buffer>): AsyncGenerator<SourceRecord[]> {
  let header: string[] | null = null;
  const parser = new CsvParser();
  const decoder = new TextDecoder('utf-8');
  const convert = (records: CsvRecord[]): SourceRecord[] => {
    const out: SourceRecord[] = [];
    for (const record of records) {
      if (header === null) {
        header = record.cells.map((h) => h.trim());
        continue;
      }
      if (record.cells.length > header.length && record.cells.slice(header.length).some((c) => c.trim() !== '')) {
        out.push({
          row: record.row,
          header,
          cells: [],
          error: {
            column: '(row)',
            message: `has ${record.cells.length} fields but the header has ${header.length} (an unquoted comma?)`,
          },
        });
        continue;
      }
      out.push({ row: record.row, header, cells: record.cells });
    }
    return out;
  };
  try {
    for await (const chunk of asIterable(input)) {
      const batch = convert(parser.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
      if (batch.length > 0) yield batch;
    }
    const rest = decoder.decode();
    yield convert([...(rest ? parser.push(rest) : []), ...parser.end()]);
  } catch (err) {
    if (err instanceof CsvSyntaxError) {
      yield [{ row: err.row, header: header ?? [], cells: [], error: { column: '(row)', message: err.message } }];
      return;
    }
    throw err;
  }
}

function recordOf(row: number, value: unknown): SourceRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { row, header: [], cells: [], error: { column: '(record)', message: 'expected a JSON object (one lead)' } };
  const entries = Object.entries(value as Record<string, unknown>);
  return { row, header: entries.map(([k]) => k), cells: entries.map(([, v]) => v) };
}

/**
 * A Salesforce REST record carries its type under "attributes"; a HubSpot CRM v3 object has its
 * fields under "properties" and its id beside them. Both become flat lead objects.
 */
function flatten(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const attrs = obj.attributes;
  if (typeof attrs === 'object' && attrs !== null && 'type' in attrs) {
    const { attributes: _, ...rest } = obj;
    return rest;
  }
  const props = obj.properties;
  if (typeof props === 'object' && props !== null && !Array.isArray(props) && typeof obj.id === 'string') {
    return { 'Record ID': obj.id, ...(props as Record<string, unknown>) };
  }
  return obj;
}

async function readAll(input: string | AsyncIterable<string | Buffer>): Promise<string> {
  if (typeof input === 'string') return input;
  const decoder = new TextDecoder('utf-8');
  let text = '';
  for await (const chunk of input) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * JSON leads: an array of objects, a Salesforce REST query result ({records: […]}), a HubSpot
 * CRM v3 list ({results: […]}), or JSON lines (one object per line).
 */
async function* jsonRecords(input: string | AsyncIterable<string | Buffer>): AsyncGenerator<SourceRecord> {
  const text = (await readAll(input)).replace(/^\uFEFF/, '');
  if (text.trim() === '') return;
  let whole: unknown;
  let parsedWhole = false;
  try {
    whole = JSON.parse(text);
    parsedWhole = true;
  } catch {
    // Not one document: JSON lines, unless it is a broken array.
    if (text.trimStart().startsWith('[')) {
      yield {
        row: 1,
        header: [],
        cells: [],
        error: { column: '(file)', message: 'not valid JSON (an array of leads was expected)' },
      };
      return;
    }
  }
  if (parsedWhole) {
    const list = Array.isArray(whole)
      ? whole
      : typeof whole === 'object' && whole !== null && Array.isArray((whole as { records?: unknown }).records)
        ? (whole as { records: unknown[] }).records
        : typeof whole === 'object' && whole !== null && Array.isArray((whole as { results?: unknown }).results)
          ? (whole as { results: unknown[] }).results
          : [whole];
    for (let i = 0; i < list.length; i++) yield recordOf(i + 1, flatten(list[i]));
    return;
  }
  let row = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    row++;
    try {
      yield recordOf(row, flatten(JSON.parse(line)));
    } catch (err) {
      yield { row, header: [], cells: [], error: { column: '(record)', message: `not valid JSON: ${(err as Error).message}` } };
    }
  }
}

/** A JSON array of lead objects, or JSON lines (one object per line), in batches. */
export async function* jsonSource(input: string | AsyncIterable<string | Buffer>): AsyncGenerator<SourceRecord[]> {
  let batch: SourceRecord[] = [];
  for await (const record of jsonRecords(input)) {
    batch.push(record);
    if (batch.length === 1000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export function sourceFor(format: ImportFormat, input: string | AsyncIterable<string | Buffer>): AsyncGenerator<SourceRecord[]> {
  return format === 'csv' ? csvSource(input) : jsonSource(input);
}
