import { describe, expect, test } from 'vitest';
import { h, raw, renderDocument } from './html.js';

describe('console HTML rendering', () => {
  test('text and attributes are escaped; only raw() passes through', () => {
    const evil = `"><script>alert(1)</script>`;
    const out = (
      <p title={evil} data-x="a&b">
        {evil}
        {raw('<b>ok</b>')}
      </p>
    ).html;
    expect(out).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" data-x="a&amp;b">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;<b>ok</b></p>',
    );
  });

  test('script URLs never reach href or action, even disguised', () => {
    for (const url of ['javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>']) {
      expect((<a href={url}>x</a>).html).toBe('<a href="#">x</a>');
    }
    expect((<a href="/console/incidents?x=1&y=2">x</a>).html).toBe('<a href="/console/incidents?x=1&amp;y=2">x</a>');
  });

  test('booleans, null and void elements', () => {
    expect((<input type="checkbox" checked={true} disabled={false} value={null} />).html).toBe('<input type="checkbox" checked>');
    expect(renderDocument(<html lang="en"></html>)).toBe('<!doctype html><html lang="en"></html>');
  });

  test('function components receive children', () => {
    const Box = ({ children }: { children?: unknown }) => <div class="box">{children as string}</div>;
    expect((<Box>{'<hi>'}</Box>).html).toBe('<div class="box">&lt;hi&gt;</div>');
  });
});
