/**
 * Offline purchase orders: the pure rules. An order posted from the fallback mirror (an HTML form
 * without JavaScript, or JSON) is read into one shape, checked field by field, and its SKUs are
 * matched against the catalog. Unknown SKUs are kept and flagged: a buyer's order is never refused
 * for naming a product the catalog does not know.
 */
import { randomInt } from 'node:crypto';

export const ORDER_STATES = ['new', 'acknowledged', 'converted'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const MAX_ORDER_BYTES = 64 * 1024;
export const MAX_LINES = 200;
export const MAX_QUANTITY = 100_000;

export interface OrderLine {
  sku: string;
  /** The product name as the buyer saw it on the mirror (may be empty). */
  name: string;
  quantity: number;
}

export interface OrderInput {
  company: string;
  name: string;
  email: string;
  phone: string | null;
  notes: string | null;
  lines: OrderLine[];
  /** The mirror page the form was on (a hidden field), else the Referer. */
  source: string | null;
}

export interface FieldError {
  field: string;
  message: string;
}

export type OrderCheck = { ok: true; order: OrderInput } | { ok: false; errors: FieldError[] };

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;
const PHONE = /^\+?[0-9 ().\-/]{5,30}$/;
/** Control characters other than tab, line feed and carriage return. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) return true;
  }
  return false;
}

function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A form field that may arrive as `sku[]` or `sku` (one value or several). */
function formList(body: Record<string, unknown>, name: string): string[] {
  return [...list(body[`${name}[]`]), ...list(body[name])].map(text);
}

/**
 * The lines of a form post: sku[] / qty[] pairs in order (product[] optional, the name shown),
 * rows left blank on the form skipped.
 */
export function linesFromForm(body: Record<string, unknown>): unknown[] {
  const skus = formList(body, 'sku');
  const quantities = formList(body, 'qty');
  const names = formList(body, 'product');
  const rows: unknown[] = [];
  const count = Math.max(skus.length, quantities.length);
  for (let i = 0; i < count; i++) {
    const sku = skus[i] ?? '';
    const quantity = quantities[i] ?? '';
    if (sku === '' && quantity === '') continue;
    rows.push({ sku, quantity, name: names[i] ?? '', row: i });
  }
  return rows;
}

function checkedText(
  errors: FieldError[],
  field: string,
  value: unknown,
  options: { required: boolean; max: number; label: string; multiline?: boolean },
): string | null {
  const v = text(value);
  if (v === '') {
    if (options.required) errors.push({ field, message: `${options.label} is required.` });
    return null;
  }
  if (v.length > options.max) {
    errors.push({ field, message: `${options.label} is too long (at most ${options.max} characters).` });
    return null;
  }
  if (!options.multiline && /[\r\n]/.test(v)) {
    errors.push({ field, message: `${options.label} must be on one line.` });
    return null;
  }
  if (hasControl(v)) {
    errors.push({ field, message: `${options.label} contains control characters.` });
    return null;
  }
  return v;
}

/** Quantity: a whole number 1..100000 ("1,200" and "1 200" read as 1200). */
export function parseQuantity(value: unknown): number | null {
  const raw = typeof value === 'number' ? String(value) : text(value).replace(/[\s,_']/g, '');
  if (!/^\d+$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_QUANTITY ? n : null;
}

/**
 * Check an order read from a form or JSON. `lines` are {sku, name?, quantity} objects (for forms,
 * from linesFromForm; `row` names the form row in errors). Every fault is reported, by field.
 */
export function checkOrder(raw: Record<string, unknown>, from: 'form' | 'json'): OrderCheck {
  const errors: FieldError[] = [];
  const company = checkedText(errors, 'company', raw.company, { required: true, max: 200, label: 'Company' });
  const name = checkedText(errors, 'name', raw.name, { required: true, max: 200, label: 'Your name' });
  const email = checkedText(errors, 'email', raw.email, { required: true, max: 254, label: 'Email' });
  if (email !== null && !EMAIL.test(email))
    errors.push({ field: 'email', message: `Email ${JSON.stringify(email)} is not an email address.` });
  const phone = checkedText(errors, 'phone', raw.phone, { required: false, max: 40, label: 'Phone' });
  if (phone !== null && !PHONE.test(phone))
    errors.push({ field: 'phone', message: 'Phone may only hold digits, spaces, +, -, ( ) and dots.' });
  const notes = checkedText(errors, 'notes', raw.notes, { required: false, max: 4000, label: 'Notes', multiline: true });
  const source = checkedText(errors, 'source', raw.source, { required: false, max: 2000, label: 'Source' });

  const rawLines = from === 'form' ? linesFromForm(raw) : raw.lines;
  const lines: OrderLine[] = [];
  if (from === 'json' && rawLines !== undefined && !Array.isArray(rawLines)) {
    errors.push({ field: 'lines', message: 'lines must be a list of {sku, name, quantity}.' });
  } else {
    const items = (rawLines ?? []) as unknown[];
    if (items.length === 0) errors.push({ field: 'lines', message: 'Add at least one product line (SKU and quantity).' });
    if (items.length > MAX_LINES) errors.push({ field: 'lines', message: `At most ${MAX_LINES} lines per order.` });
    items.slice(0, MAX_LINES).forEach((item, index) => {
      const entry = (item !== null && typeof item === 'object' ? item : {}) as Record<string, unknown>;
      const at = from === 'form' ? Number(entry.row ?? index) : index;
      const skuField = from === 'form' ? `sku[${at}]` : `lines[${at}].sku`;
      const qtyField = from === 'form' ? `qty[${at}]` : `lines[${at}].quantity`;
      const nameField = from === 'form' ? `product[${at}]` : `lines[${at}].name`;
      const row = `Line ${at + 1}`;
      const sku = checkedText(errors, skuField, entry.sku, { required: true, max: 100, label: `${row}: SKU` });
      const shown = checkedText(errors, nameField, entry.name, { required: false, max: 300, label: `${row}: product name` });
      const quantity = parseQuantity(entry.quantity);
      if (quantity === null)
        errors.push({
          field: qtyField,
          message: `${row}: quantity must be a whole number from 1 to ${MAX_QUANTITY.toLocaleString('en-US')}.`,
        });
      if (sku !== null && quantity !== null) lines.push({ sku, name: shown ?? '', quantity });
    });
  }
  if (errors.length > 0 || company === null || name === null || email === null) return { ok: false, errors };
  return { ok: true, order: { company, name, email: email.toLowerCase(), phone, notes, lines, source } };
}

/** Flag each line whose SKU the catalog does not know (all unknown when there is no catalog). */
export function flagLines(lines: readonly OrderLine[], known: ReadonlySet<string>): Array<OrderLine & { known: boolean }> {
  return lines.map((l) => ({ ...l, known: known.has(l.sku) }));
}

const REFERENCE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** What the buyer quotes: KW- and eight characters without look-alikes (0/O, 1/I). */
export function newReference(random: (max: number) => number = randomInt): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += REFERENCE_ALPHABET[random(REFERENCE_ALPHABET.length)];
  return `KW-${out.slice(0, 4)}-${out.slice(4)}`;
}

/** Which state changes the console allows: forward only. */
export function canMove(from: OrderState, to: OrderState): boolean {
  if (from === 'new') return to === 'acknowledged' || to === 'converted';
  if (from === 'acknowledged') return to === 'converted';
  return false;
}
