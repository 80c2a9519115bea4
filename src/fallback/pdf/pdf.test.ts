import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { describeNeeding } from '../../../test/harness/env.js';
import type { CatalogCategory, CatalogProduct } from '../../catalog/product.js';
import { buildComparison, defuseCsvCell, renderComparisonCsv, renderComparisonHtml, renderComparisonPdf } from './comparison.js';
import { renderProductPack, renderSpecSheet, renderSpecSheetReport } from './spec-sheet.js';
import { foldToWinAnsi } from './winansi.js';

const PDFTOTEXT = process.env.KEEPWARM_TEST_PDFTOTEXT ?? 'pdftotext';
const pdftotextMissing =
  spawnSync(PDFTOTEXT, ['-v'], { stdio: 'ignore' }).error === undefined
    ? null
    : `${PDFTOTEXT} not found (apt-get install poppler-utils)`;

const dir = mkdtempSync(join(tmpdir(), 'keepwarm-pdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

/** The text poppler reads back from the PDF; pages are separated by form feeds. */
function pdfText(pdf: Buffer): { text: string; pages: number } {
  const file = join(dir, `${++fileCount}.pdf`);
  writeFileSync(file, pdf);
  const text = execFileSync(PDFTOTEXT, ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  return { text, pages: text.split('\f').filter((page) => page.trim() !== '').length };
}

function product(overrides: Partial<CatalogProduct> = {}): CatalogProduct {
  return {
    sku: 'CH-4410-BLK',
    name: 'Ergon Task Chair 4410',
    description: 'A task chair for long shifts.\n\nSynchronous mechanism, adjustable lumbar support and 4D armrests.',
    brand: 'Sitwell',
    categories: ['furniture', 'chairs'],
    group: null,
    price: { amount: '389.00', currency: 'EUR' },
    availability: 'in_stock',
    gtin: '4006381333931',
    mpn: 'SW-4410',
    images: ['https://cdn.example.com/4410.jpg'],
    url: 'https://showroom.example.com/p/ch-4410',
    attributes: [
      { code: 'seat_height', label: 'Seat height', value: '420-530', unit: 'mm' },
      { code: 'max_load', label: 'Maximum load', value: '150', unit: 'kg' },
      { code: 'upholstery', label: 'Upholstery', value: 'Recycled polyester mesh', unit: null },
    ],
    updated_at: '2026-02-01T10:00:00Z',
    ...overrides,
  };
}

const options = {
  fallbackUrl: 'https://fallback.example.com',
  contact: 'Orders and questions: sales@sitwell.example · +49 30 1234567',
  generatedAt: new Date('2026-03-04T09:05:00Z'),
};
const chairs: CatalogCategory = { code: 'chairs', parent: 'furniture', label: 'Office chairs' };

describe('text for the built-in fonts', () => {
  test('keeps Windows-1252, folds other Latin accents, counts what it cannot show', () => {
    expect(foldToWinAnsi('Café – 50 € “quoted” ™')).toEqual({ text: 'Café – 50 € “quoted” ™', replaced: 0 });
    expect(foldToWinAnsi('Łódź Ştefan Dvořák −5 ≤ 10')).toEqual({ text: 'Lódz Stefan Dvorák -5 <= 10', replaced: 0 });
    expect(foldToWinAnsi('椅子 Кресло')).toEqual({ text: '?? ??????', replaced: 8 });
  });
});

describeNeeding('pdftotext', pdftotextMissing, 'spec sheets', () => {
  test('one page with name, brand, identifiers, price, description, attributes and contact', () => {
    const { text, pages } = pdfText(renderSpecSheet(product(), options));
    expect(pages).toBe(1);
    for (const expected of [
      'Ergon Task Chair 4410',
      'SITWELL',
      'SKU: CH-4410-BLK',
      'GTIN: 4006381333931',
      'MPN: SW-4410',
      '389.00 EUR',
      'In stock',
      'Synchronous mechanism',
      'Seat height',
      '420-530 mm',
      '150 kg',
      'Recycled polyester mesh',
      'sales@sitwell.example',
      'https://fallback.example.com',
      '2026-03-04 09:05 UTC',
    ]) {
      expect(text).toContain(expected);
    }
  });

  test('same input gives the same bytes; another generation date gives other bytes', () => {
    const a = renderSpecSheet(product(), options);
    const b = renderSpecSheet(product(), { ...options });
    expect(a.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(Buffer.compare(a, b)).toBe(0);
    const later = renderSpecSheet(product(), { ...options, generatedAt: new Date('2026-03-05T09:05:00Z') });
    expect(Buffer.compare(a, later)).not.toBe(0);
  });

  test('a long attribute list stays on one page and says how many more there are', () => {
    const attributes = Array.from({ length: 80 }, (_, i) => ({
      code: `a${i}`,
      label: `Property ${i}`,
      value: `value-${i}`,
      unit: null,
    }));
    const long = product({ attributes, name: 'Very long name '.repeat(20), description: 'word '.repeat(2000) });
    const { text, pages } = pdfText(
      renderSpecSheet(long, { ...options, productUrl: (p) => `https://fallback.example.com/p/${p.sku}` }),
    );
    expect(pages).toBe(1);
    expect(text).toContain('value-0');
    const more = /\+ (\d+) more specifications at https:\/\/fallback\.example\.com\/p\/CH-4410-BLK/.exec(text);
    expect(more).not.toBeNull();
    const shownCount = attributes.filter((a) => new RegExp(`\\b${a.value}\\b`).test(text)).length;
    expect(shownCount + Number(more?.[1])).toBe(80);
  });

  test('non-Latin text is printed as ? and counted; Latin accents survive', () => {
    const report = renderSpecSheetReport(product({ name: 'Bürostuhl Łódź 办公椅', brand: null }), options);
    expect(report.unsupportedCharacters).toBe(3);
    expect(pdfText(report.pdf).text).toContain('Bürostuhl Lódz ???');
  });

  test('hostile text is printed as text', () => {
    const { text } = pdfText(renderSpecSheet(product({ name: '<script>alert(1)</script> (chair) \\ ok' }), options));
    expect(text).toContain('<script>alert(1)</script> (chair) \\ ok');
  });

  test('a product pack has a cover listing the products and one page per product', () => {
    const products = [product(), product({ sku: 'CH-5520', name: 'Ergon Executive 5520', price: null, availability: null })];
    const pack = renderProductPack(chairs, products, options);
    const { text, pages } = pdfText(pack.pdf);
    expect(pack.pages).toBe(3);
    expect(pages).toBe(3);
    const [cover, first, second] = text.split('\f');
    expect(cover).toContain('Office chairs');
    expect(cover).toContain('2 products');
    expect(cover).toContain('CH-5520');
    expect(first).toContain('SKU: CH-4410-BLK');
    expect(second).toContain('Ergon Executive 5520');
    expect(second).toContain('Price on request');
    expect(second).toContain('Availability unknown');
    expect(second).toContain('Page 3 of 3');
    expect(Buffer.compare(pack.pdf, renderProductPack(chairs, products, options).pdf)).toBe(0);
  });
});

describe('comparison matrix', () => {
  const hostile = product({
    sku: 'EVIL-1',
    name: '<script>alert("x")</script>',
    brand: '=HYPERLINK("http://evil.example","click")',
    mpn: '+1-555',
    attributes: [
      { code: 'seat_height', label: 'Seat height', value: '-5', unit: null },
      { code: 'note', label: 'Note & <b>bold</b>', value: '@SUM(A1:A9)', unit: null },
      { code: 'tab', label: 'Tabbed', value: '\t=1+1', unit: null },
    ],
  });
  const matrix = buildComparison(chairs, [product(), hostile]);

  test('rows are the union of attributes; a product lacking one has an empty cell', () => {
    const labels = matrix.rows.map((r) => r.label);
    expect(labels).toEqual([
      'Brand',
      'SKU',
      'GTIN',
      'MPN',
      'Price',
      'Availability',
      'Seat height',
      'Maximum load',
      'Upholstery',
      'Note & <b>bold</b>',
      'Tabbed',
    ]);
    expect(matrix.rows.find((r) => r.label === 'Seat height')?.cells).toEqual(['420-530 mm', '-5']);
    expect(matrix.rows.find((r) => r.label === 'Maximum load')?.cells).toEqual(['150 kg', null]);
  });

  test('HTML escapes every text', () => {
    const html = renderComparisonHtml(matrix);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Note &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('<th scope="row">Maximum load</th><td>150 kg</td><td class="missing">');
  });

  test('CSV cells that a spreadsheet would run as formulas are defused', () => {
    const csv = renderComparisonCsv(matrix);
    expect(csv.startsWith('\ufeffSpecification,')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toContain(`Brand,Sitwell,"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(lines).toContain("MPN,SW-4410,'+1-555");
    expect(lines).toContain("Seat height,420-530 mm,'-5");
    expect(lines).toContain("Note & <b>bold</b>,,'@SUM(A1:A9)");
    expect(lines).toContain("Tabbed,,'\t=1+1");
    for (const line of lines) for (const cell of line.split(',')) expect(cell).not.toMatch(/^"?[=+\-@\t\r]/);
    expect(defuseCsvCell('\rcmd')).toBe("'\rcmd");
    expect(defuseCsvCell('plain')).toBe('plain');
  });
});

describeNeeding('pdftotext', pdftotextMissing, 'comparison PDF', () => {
  test('shows every product and value; more products than fit go to further page bands', () => {
    const many = Array.from({ length: 7 }, (_, i) =>
      product({
        sku: `SKU-${i}`,
        name: `Chair ${i}`,
        attributes: [{ code: 'w', label: 'Width', value: `${600 + i}`, unit: 'mm' }],
      }),
    );
    const rendered = renderComparisonPdf(buildComparison(chairs, many), { ...options, productsPerPage: 5 });
    const { text, pages } = pdfText(rendered.pdf);
    expect(rendered.pages).toBe(2);
    expect(pages).toBe(2);
    for (let i = 0; i < 7; i++) {
      expect(text).toContain(`SKU-${i}`);
      expect(text).toContain(`${600 + i} mm`);
    }
    expect(text).toContain('Comparison: Office chairs');
    expect(
      Buffer.compare(rendered.pdf, renderComparisonPdf(buildComparison(chairs, many), { ...options, productsPerPage: 5 }).pdf),
    ).toBe(0);
  });
});
