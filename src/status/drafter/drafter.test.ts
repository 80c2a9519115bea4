import { describe, expect, test } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../messaging/default-templates.js';
import {
  checkLlmAnswer,
  type DraftFacts,
  type DraftStatus,
  draftUpdate,
  formatDuration,
  neutralDraft,
  skeletonKey,
} from './drafter.js';

const facts: DraftFacts = {
  incident_name: 'Product pages down',
  status: 'investigating',
  current_status: 'investigating',
  status_changed: false,
  components: [
    { name: 'Showroom CDN', status: 'degraded_performance' },
    { name: 'Product API', status: 'major_outage' },
  ],
  scope: ['eu-west', 'us-east'],
  started_at: '2026-01-15T09:00:00.000Z',
  duration_minutes: 85,
  changes_since_last_update: [{ name: 'Product API', from: 'partial_outage', to: 'major_outage' }],
  last_update_at: '2026-01-15T09:50:00.000Z',
  fallback_url: 'https://catalog.example.test',
  next_update_at: '2026-01-15T11:25:00.000Z',
};

function skeleton(status: DraftStatus) {
  const t = DEFAULT_TEMPLATES.find((d) => d.key === skeletonKey(status));
  if (!t) throw new Error(`no default skeleton for ${status}`);
  return { versionId: `v-${t.key}`, key: t.key, channel: t.channel, purpose: t.purpose, subject: null, body: t.body, version: 1 };
}

describe('draftUpdate', () => {
  test('renders the approved skeleton with every fact, the same text for the same facts', () => {
    const a = draftUpdate(facts, skeleton('investigating'));
    const b = draftUpdate({ ...facts, components: [...facts.components].reverse() }, skeleton('investigating'));
    expect(a.source).toBe('template');
    expect(a.skeleton).toEqual({ key: 'status.draft_investigating', version: 1 });
    expect(a.text).toBe(b.text);
    expect(a.text).toContain('Product pages down');
    expect(a.text).toContain('Product API (major outage), Showroom CDN (degraded performance)');
    expect(a.text).toContain('visitors in eu-west and us-east');
    expect(a.text).toContain('since 1 h 25 min ago');
    expect(a.text).toContain('Since our last update, Product API went from partial outage to major outage.');
    expect(a.text).toContain('https://catalog.example.test');
    expect(a.text).toContain('Next update by 11:25 UTC');
  });

  test('each status has its own skeleton; the resolution names the services and the duration', () => {
    const texts = (['investigating', 'identified', 'monitoring'] as const).map(
      (s) => draftUpdate({ ...facts, status: s }, skeleton(s)).text,
    );
    expect(new Set(texts).size).toBe(3);
    const resolved = draftUpdate(
      { ...facts, status: 'resolved', next_update_at: null, changes_since_last_update: [] },
      skeleton('resolved'),
    );
    expect(resolved.text).toContain('Product API and Showroom CDN work normally again, after 1 h 25 min');
    expect(resolved.text).toContain('Nothing has changed for the affected services since our last update.');
  });

  test('first update and a global outage with no named component read naturally', () => {
    const text = draftUpdate(
      { ...facts, components: [], scope: 'global', changes_since_last_update: null, duration_minutes: 7 },
      skeleton('investigating'),
    ).text;
    expect(text).toContain('Affected: parts of our showroom, for all regions, since 7 min ago.');
    expect(text).toContain('This is our first update on it.');
  });

  test('no approved skeleton: the built-in neutral text, marked, with the reason', () => {
    const draft = draftUpdate(facts, { missing: 'No approved version of template status.draft_investigating (en)' });
    expect(draft).toMatchObject({ source: 'builtin', skeleton: null });
    expect(draft.fallback_reason).toMatch(/No approved version/);
    expect(draft.text).toBe(neutralDraft(facts));
    expect(draft.text).toContain('https://catalog.example.test');
    expect(draft.text).toContain('Next update by 11:25 UTC.');
  });

  test('a skeleton needing a fact we do not have (no fallback URL) falls back to the neutral text, saying why', () => {
    const draft = draftUpdate({ ...facts, fallback_url: null }, skeleton('investigating'));
    expect(draft.source).toBe('builtin');
    expect(draft.fallback_reason).toMatch(/fallback_url/);
    expect(draft.text).not.toContain('{{');
  });
});

describe('checking an LLM answer', () => {
  const good =
    'We are investigating problems with product pages. Browse the catalog at https://catalog.example.test. Next update by 11:25 UTC.';

  test('accepts an answer that keeps the fallback URL and the next update time', () => {
    expect(checkLlmAnswer(good, facts)).toBeNull();
  });

  test.each([
    ['   ', 'the answer was empty'],
    [`${good} ${'x'.repeat(1000)}`, 'characters (at most 1000)'],
    [good.replace('https://catalog.example.test', 'our catalog'), 'dropped the fallback URL'],
    [good.replace('11:25 UTC', 'soon'), 'dropped the next update time'],
    [`${good} {{ first_name }}`, 'template syntax'],
  ])('refuses %#', (answer, reason) => {
    expect(checkLlmAnswer(answer, facts)).toContain(reason);
  });
});

test('durations', () => {
  expect([0, 59, 60, 61, 125, 24 * 60, 24 * 60 + 90, 3 * 24 * 60].map(formatDuration)).toEqual([
    '0 min',
    '59 min',
    '1 h',
    '1 h 1 min',
    '2 h 5 min',
    '1 d',
    '1 d 1 h',
    '3 d',
  ]);
});
