import { describe, expect, test } from 'vitest';
import { csvCell, csvLine, parseCsv } from './import/csv.js';
import { mapRecord, planColumns } from './import/mapping.js';
import { diffLead, mapLifecycle, normaliseEmail, normalisePhone, parseDate, parseMoney } from './leads.js';

describe('lead values', () => {
  test('emails are lower-cased and checked', () => {
    expect(normaliseEmail(' Ann@Example.COM ')).toEqual({ ok: true, value: 'ann@example.com' });
    expect(normaliseEmail('ann@example')).toMatchObject({ ok: false });
    expect(normaliseEmail('not an email')).toMatchObject({ ok: false });
  });

  test('phones become E.164; a number without country code is refused unless US/Canada or the row names its country', () => {
    expect(normalisePhone('(610) 265-9100')).toEqual({ ok: true, value: '+16102659100' });
    expect(normalisePhone('+44 20 7946 0958')).toEqual({ ok: true, value: '+442079460958' });
    expect(normalisePhone('0044 20 7946 0958')).toEqual({ ok: true, value: '+442079460958' });
    expect(normalisePhone('886-2-25474189', 'Taiwan')).toEqual({ ok: true, value: '+886225474189' });
    expect(normalisePhone('020 7946 0958', 'United Kingdom')).toEqual({ ok: true, value: '+442079460958' });
    const refused = normalisePhone('020 7946 0958');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/country code/);
    expect(normalisePhone('call me maybe').ok).toBe(false);
  });

  test('lifecycle from HubSpot stages, HubSpot lead status and Salesforce status; unknown is null', () => {
    expect(mapLifecycle('marketingqualifiedlead')).toBe('mql');
    expect(mapLifecycle('Sales Qualified Lead')).toBe('sql');
    expect(mapLifecycle('Working - Contacted')).toBe('mql');
    expect(mapLifecycle('Open - Not Contacted')).toBe('lead');
    expect(mapLifecycle('Closed - Converted')).toBe('opportunity');
    expect(mapLifecycle('customer')).toBe('customer');
    expect(mapLifecycle('Nurture later')).toBeNull();
  });

  test('money in whole dollars', () => {
    expect(parseMoney('$25,000')).toEqual({ ok: true, value: 25_000 });
    expect(parseMoney('25000.00')).toEqual({ ok: true, value: 25_000 });
    expect(parseMoney('25K')).toEqual({ ok: true, value: 25_000 });
    expect(parseMoney('1.5M')).toEqual({ ok: true, value: 1_500_000 });
    expect(parseMoney('12.50')).toEqual({ ok: true, value: 13 });
    expect(parseMoney('lots').ok).toBe(false);
    expect(parseMoney('-5').ok).toBe(false);
  });

  test('dates: ISO, HubSpot and Salesforce shapes', () => {
    expect(parseDate('2024-01-05T10:00:00Z')).toEqual({ ok: true, value: Date.parse('2024-01-05T10:00:00Z') });
    expect(parseDate('2024-01-05 10:00')).toEqual({ ok: true, value: Date.parse('2024-01-05T10:00:00Z') });
    expect(parseDate('2023-05-03T10:34:07.000+0000')).toEqual({ ok: true, value: Date.parse('2023-05-03T10:34:07Z') });
    expect(parseDate('2023-05-03T12:34:07+02:00')).toEqual({ ok: true, value: Date.parse('2023-05-03T10:34:07Z') });
    expect(parseDate('2024-01-05')).toEqual({ ok: true, value: Date.parse('2024-01-05T00:00:00Z') });
    expect(parseDate('05/01/2024').ok).toBe(false);
    expect(parseDate('2024-13-40').ok).toBe(false);
  });
});

describe('CSV', () => {
  test('quotes, doubled quotes, embedded newlines, CRLF, BOM and blank lines', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""","line1\nline2"\r\n\r\n1,,3\n';
    expect(parseCsv(text)).toEqual([
      { row: 1, cells: ['a', 'b', 'c'] },
      { row: 2, cells: ['x, y', 'say "hi"', 'line1\nline2'] },
      { row: 3, cells: ['1', '', '3'] },
    ]);
  });

  test('the same records whatever the chunking', async () => {
    const { CsvParser } = await import('./import/csv.js');
    const text = 'h1,h2\n"a""b",c\r\n"multi\nline",""""\n';
    const whole = parseCsv(text);
    for (let size = 1; size <= 5; size++) {
      const p = new CsvParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
      got.push(...p.end());
      expect(got).toEqual(whole);
    }
  });

  test('an unterminated quote is an error naming the row', () => {
    expect(() => parseCsv('a,b\n"open,1\n')).toThrow(/row 2/);
  });

  test('export cells: formula-looking text gets a leading apostrophe and is quoted', () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('+1 call')).toBe(`"'+1 call"`);
    expect(csvCell('-2')).toBe(`"'-2"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('\tx')).toBe(`"'\tx"`);
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(-5)).toBe('-5');
    expect(csvLine(['a,b', null, 3])).toBe('"a,b",,3\r\n');
  });
});

describe('mapping', () => {
  test('HubSpot, Salesforce and Keepwarm names map to the same fields; unknown columns go to attributes', () => {
    const plan = planColumns([
      'Record ID',
      'Email Address',
      'Cell Number',
      'Office Number',
      'Lifecycle Stage',
      'Industry',
      'ARR Potential',
    ]);
    const mapped = mapRecord(2, plan, ['101', 'A@B.CO', '212 555 0100', '212 555 0199', 'opportunity', 'Retail', '$30K']);
    expect(mapped).toEqual({
      ok: true,
      value: {
        row: 2,
        fields: {
          external_id: '101',
          email: 'a@b.co',
          phone: '+12125550100',
          lifecycle: 'opportunity',
          arr_potential: 30_000,
          attributes: { Industry: 'Retail', 'Office Number': '212 555 0199' },
        },
      },
    });
    const sf = planColumns(['Id', 'FirstName', 'Status', 'OwnerId']);
    expect(mapRecord(2, sf, ['00Q1', 'Betty', 'Nurture', '005x'])).toMatchObject({
      ok: true,
      value: {
        fields: { external_id: '00Q1', first_name: 'Betty', lifecycle: 'lead', crm_status: 'Nurture', owner_ref: '005x' },
      },
    });
  });

  test('custom mapping from config wins', () => {
    const plan = planColumns(['Deal Size'], { 'Deal Size': 'arr_potential' });
    expect(mapRecord(2, plan, ['12000'])).toMatchObject({ ok: false });
    const plan2 = planColumns(['Email', 'Deal Size'], { 'deal size': 'arr_potential' });
    expect(mapRecord(2, plan2, ['a@b.co', '12000'])).toMatchObject({ ok: true, value: { fields: { arr_potential: 12_000 } } });
  });

  test('errors name the row and the column', () => {
    const plan = planColumns(['Email', 'Phone', 'arr_potential', 'demo_scheduled_at']);
    const mapped = mapRecord(7, plan, ['nope', '12', 'a lot', 'tomorrow']);
    expect(mapped.ok).toBe(false);
    if (!mapped.ok)
      expect(mapped.errors.map((e) => [e.row, e.column])).toEqual([
        [7, 'Email'],
        [7, 'arr_potential'],
        [7, 'demo_scheduled_at'],
        [7, 'Phone'],
      ]);
  });

  test('diff: blank fields keep the stored value; attributes merge; identical is no change', () => {
    const stored = {
      id: 'l1',
      external_id: '1',
      email: 'a@b.co',
      phone: null,
      first_name: 'Ann',
      last_name: null,
      title: null,
      company: null,
      owner_id: null,
      owner_ref: null,
      lifecycle: 'lead',
      crm_status: null,
      source: null,
      arr_potential: 5000,
      cart_value: null,
      demo_scheduled_at: null,
      last_activity_at: null,
      timezone: null,
      consent_email: 'unknown',
      consent_sms: 'unknown',
      attributes: { a: 1 },
    };
    expect(diffLead(stored, { external_id: '1', first_name: 'Ann', attributes: { a: 1 } }, undefined)).toEqual({});
    expect(diffLead(stored, { first_name: 'Anne', attributes: { b: 2 } }, undefined)).toEqual({
      first_name: 'Anne',
      attributes: { a: 1, b: 2 },
    });
  });
});
