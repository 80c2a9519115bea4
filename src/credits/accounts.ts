/**
 * Customer plans from a CSV file (pure checks). One row per account:
 *
 *   external_id,name,plan,monthly_fee,currency,components,regions,domain
 *
 * external_id, name, plan and monthly_fee are required; currency defaults to USD; components and
 * regions are lists separated by ";" or "|" (empty: every component, every region); components
 * are named by id or by name. Every fault names its row (the header is row 1) and column.
 */
import type { CsvRecord } from '../crm/import/csv.js';
import { PLAN_PATTERN, parseMoney } from './credits.js';

export const ACCOUNT_COLUMNS = [
  'external_id',
  'name',
  'plan',
  'monthly_fee',
  'currency',
  'components',
  'regions',
  'domain',
] as const;
type Column = (typeof ACCOUNT_COLUMNS)[number];
const REQUIRED: readonly Column[] = ['external_id', 'name', 'plan', 'monthly_fee'];

export interface RowError {
  row: number;
  column: string;
  message: string;
}

export interface AccountPlanInput {
  row: number;
  externalId: string;
  name: string;
  domain: string | null;
  plan: string;
  monthlyFeeCents: number;
  currency: string;
  /** Component ids; empty: every component. */
  components: string[];
  /** Lower-cased region names; empty: every region. */
  regions: string[];
}

const REGION = /^[a-z0-9][a-z0-9._-]{0,39}$/;
const MAX_FEE_CENTS = 100_000_000_000;

function splitList(text: string): string[] {
  return text
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function checkAccountRows(
  records: readonly CsvRecord[],
  known: { plans: ReadonlySet<string>; components: ReadonlyArray<{ id: string; name: string }> },
): { accounts: AccountPlanInput[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const [head, ...rows] = records;
  if (!head) return { accounts: [], errors: [{ row: 1, column: '(file)', message: 'the file is empty; expected a header row' }] };
  const header = head.cells.map((h) => h.trim().toLowerCase());
  const at = new Map<Column, number>();
  header.forEach((h, i) => {
    if (h === '') return;
    if (!(ACCOUNT_COLUMNS as readonly string[]).includes(h)) {
      errors.push({ row: head.row, column: h, message: `unknown column; expected ${ACCOUNT_COLUMNS.join(', ')}` });
      return;
    }
    if (at.has(h as Column)) errors.push({ row: head.row, column: h, message: 'the column appears twice' });
    else at.set(h as Column, i);
  });
  for (const r of REQUIRED) if (!at.has(r)) errors.push({ row: head.row, column: r, message: 'required column is missing' });
  if (errors.length > 0) return { accounts: [], errors };

  const byName = new Map(known.components.map((c) => [c.name.toLowerCase(), c.id]));
  const ids = new Set(known.components.map((c) => c.id));
  const seen = new Map<string, number>();
  const accounts: AccountPlanInput[] = [];
  for (const record of rows) {
    const row = record.row;
    const cell = (c: Column) => {
      const i = at.get(c);
      return i === undefined ? '' : (record.cells[i] ?? '').trim();
    };
    if (record.cells.every((c) => c.trim() === '')) continue;
    if (record.cells.length > header.length && record.cells.slice(header.length).some((c) => c.trim() !== '')) {
      errors.push({
        row,
        column: '(row)',
        message: `has ${record.cells.length} fields but the header has ${header.length} (an unquoted comma?)`,
      });
      continue;
    }
    const fault = (column: Column, message: string) => errors.push({ row, column, message });
    const before = errors.length;

    const externalId = cell('external_id');
    if (externalId === '') fault('external_id', 'required');
    else if (externalId.length > 200) fault('external_id', 'at most 200 characters');
    else if (seen.has(externalId)) fault('external_id', `${JSON.stringify(externalId)} is also on row ${seen.get(externalId)}`);
    else seen.set(externalId, row);

    const name = cell('name');
    if (name === '') fault('name', 'required');
    else if (name.length > 200) fault('name', 'at most 200 characters');

    const plan = cell('plan').toLowerCase();
    if (plan === '') fault('plan', 'required');
    else if (!PLAN_PATTERN.test(plan)) fault('plan', `${JSON.stringify(plan)} is not a plan name`);
    else if (!known.plans.has(plan))
      fault(
        'plan',
        `no SLA policy for plan ${JSON.stringify(plan)}; define it first${known.plans.size > 0 ? ` (plans: ${[...known.plans].join(', ')})` : ''}`,
      );

    const feeText = cell('monthly_fee');
    const fee = parseMoney(feeText);
    if (feeText === '') fault('monthly_fee', 'required');
    else if (fee === null)
      fault('monthly_fee', `${JSON.stringify(feeText)} is not an amount such as 1250.00 (at most two decimals)`);
    else if (fee > MAX_FEE_CENTS) fault('monthly_fee', 'at most 1,000,000,000.00');

    const currency = (cell('currency') || 'USD').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency))
      fault('currency', `${JSON.stringify(cell('currency'))} is not an ISO 4217 code such as USD`);

    const components: string[] = [];
    for (const ref of splitList(cell('components'))) {
      const id = ids.has(ref) ? ref : byName.get(ref.toLowerCase());
      if (id === undefined)
        fault(
          'components',
          `no component ${JSON.stringify(ref)}; known: ${known.components.map((c) => c.name).join(', ') || '(none yet)'}`,
        );
      else if (!components.includes(id)) components.push(id);
    }

    const regions: string[] = [];
    for (const region of splitList(cell('regions')).map((r) => r.toLowerCase())) {
      if (!REGION.test(region)) fault('regions', `${JSON.stringify(region)} is not a region name (letters, digits, . _ -)`);
      else if (!regions.includes(region)) regions.push(region);
    }

    const domain = cell('domain').toLowerCase();
    if (domain !== '' && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(domain))
      fault('domain', `${JSON.stringify(domain)} is not a domain such as acme.example`);

    if (errors.length > before) continue;
    accounts.push({
      row,
      externalId,
      name,
      domain: domain === '' ? null : domain,
      plan,
      monthlyFeeCents: fee as number,
      currency,
      components,
      regions,
    });
  }
  return { accounts, errors };
}
