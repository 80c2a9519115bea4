/**
 * Small text helpers shared by the catalog importers: delimited-text parsing, HTML to plain
 * text, prices, GTINs and the numbers a spreadsheet mangled into scientific notation.
 */

export interface DelimitedRecord {
  /** 1-based record number (the header is row 1). */
  row: number;
  cells: string[];
}

/** Parse CSV/TSV text with quoted fields (doubled quotes, separators and line breaks inside quotes). */
export function parseDelimited(input: string, delimiter: string): DelimitedRecord[] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const out: DelimitedRecord[] = [];
  let cells: string[] = [];
  let field = '';
  let inQuotes = false;
  let row = 0;
  let i = 0;
  const endRecord = () => {
    cells.push(field);
    field = '';
    if (!(cells.length === 1 && cells[0] === '')) out.push({ row: ++row, cells });
    cells = [];
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') inQuotes = true;
    else if (ch === delimiter) {
      cells.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (field !== '' || cells.length > 0) endRecord();
  return out;
}

/** The separator of a delimited file, from its first line: tab, semicolon or comma. */
export function sniffDelimiter(text: string): string {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const count = (c: string) => first.split(c).length - 1;
  const tabs = count('\t');
  const semis = count(';');
  const commas = count(',');
  if (tabs > 0 && tabs >= semis && tabs >= commas) return '\t';
  if (semis > commas) return ';';
  return ',';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * HTML (or text with literal "\n" escapes, as PIM exports write them) to plain text: block
 * ends become paragraph breaks, tags go, entities are decoded, spaces collapse.
 */
export function htmlToText(input: string | null | undefined): string {
  if (!input) return '';
  const s = input
    .replace(/\\r\\n|\\n|\\r/g, '\n')
    .replace(/<\s*(script|style)[^>]*>[\s\S]*?<\s*\/\s*\1\s*>/gi, '')
    .replace(/<\s*br\s*\/?\s*>/gi, '\n')
    .replace(/<\s*li[^>]*>/gi, '\n• ')
    .replace(/<\s*\/\s*(p|div|h[1-6]|ul|ol|table|tr|section|article|blockquote)\s*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(s)
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A number a spreadsheet turned into scientific notation (e.g. 3.65275E+11): its digits are lost. */
export function isExcelMangled(value: string): boolean {
  return /^\s*-?\d+(?:[.,]\d+)?E\+?\d+\s*$/i.test(value);
}

/** Whether a GTIN (8, 12, 13 or 14 digits) has a valid check digit. */
export function gtinCheckDigitOk(gtin: string): boolean {
  if (!/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(gtin)) return false;
  const digits = gtin.split('').map(Number);
  const check = digits.pop() as number;
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += (digits[i] as number) * w;
  return (10 - (sum % 10)) % 10 === check;
}

export type PriceParse = { amount: string; currency: string } | null | { error: string };

/**
 * A price as sources write it: "105.29 USD", "USD 105.29", "25", "1,299.00", "12,50 EUR". The
 * amount becomes a plain decimal string; without a currency, `defaultCurrency` applies.
 */
export function parsePrice(raw: string | number | null | undefined, defaultCurrency: string | null): PriceParse {
  if (raw === null || raw === undefined) return null;
  const text = String(raw).trim();
  if (text === '') return null;
  const m = /^(?:([A-Za-z]{3})\s*)?([0-9][0-9.,\s]*)(?:\s*([A-Za-z]{3}))?$/.exec(text);
  if (!m)
    return { error: `not a price: ${JSON.stringify(text)} (expected an amount and an optional ISO currency, e.g. 105.29 USD)` };
  let amount = (m[2] as string).replace(/\s/g, '');
  if (/,\d{1,2}$/.test(amount) && !amount.includes('.')) amount = amount.replace(/\./g, '').replace(',', '.');
  else amount = amount.replace(/,/g, '');
  if (!/^\d+(\.\d+)?$/.test(amount)) return { error: `not a price: ${JSON.stringify(text)}` };
  amount = amount.replace(/^0+(?=\d)/, '');
  const currency = (m[1] ?? m[3] ?? defaultCurrency ?? '').toUpperCase();
  if (!currency) return { error: `price ${JSON.stringify(text)} has no currency (pass a default currency)` };
  return { amount, currency };
}

export function availabilityOf(raw: string | null | undefined): 'in_stock' | 'out_of_stock' | 'preorder' | 'backorder' | null {
  const v = (raw ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (v === 'in_stock' || v === 'instock' || v === 'available') return 'in_stock';
  if (v === 'out_of_stock' || v === 'outofstock' || v === 'sold_out' || v === 'discontinued') return 'out_of_stock';
  if (v === 'preorder' || v === 'pre_order') return 'preorder';
  if (v === 'backorder' || v === 'back_order') return 'backorder';
  return null;
}

/** A category code from a label ("Clothing Tops" → "clothing_tops"). */
export function slug(label: string): string {
  return (
    label
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/&/g, ' and ')
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'category'
  );
}

/** "display_diagonal" → "Display diagonal". */
export function labelOf(code: string): string {
  const s = code.replace(/[_-]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function isHttpUrl(s: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(s.trim());
}
