/**
 * The one place where values cross between JavaScript and the two SQL dialects.
 * Times: integer epoch milliseconds in both (bigint columns; pg's int8 parser returns numbers).
 * Booleans: written as 1/0 (PostgreSQL's boolean accepts them), read as true/1 or false/0.
 * JSON: written as text, read as text in both (pg's json parser is switched off) and parsed here.
 */
export function toDbBool(value: boolean): number {
  return value ? 1 : 0;
}

export function fromDbBool(value: boolean | number | null | undefined): boolean {
  return value === true || value === 1;
}

export function toDbJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromDbJson<T>(value: string | null | undefined, fallback: T): T {
  if (value === null || value === undefined || value === '') return fallback;
  return JSON.parse(value) as T;
}
