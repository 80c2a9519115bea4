/**
 * Writing CSV that is safe to open in a spreadsheet. A cell starting with = + - @ (or a tab or
 * carriage return, which some spreadsheets strip first) runs as a formula; such text gets a
 * leading apostrophe so it stays text (OWASP's advice for CSV injection).
 */
export function defuseCsvCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * One RFC 4180 field: text is defused and quoted when needed; numbers are written as they are
 * (a negative amount stays a number); null is an empty cell.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = defuseCsvCell(value);
  return /[",\r\n]/.test(safe) || /^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV line (CRLF-terminated). */
export function csvRow(values: ReadonlyArray<string | number | null>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** The UTF-8 byte order mark a CSV file starts with, so spreadsheets read accents. */
export const CSV_BOM = '\ufeff';
