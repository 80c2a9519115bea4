import { describe, expect, test } from 'vitest';
import type { ChannelRendering } from '../messaging/update-renderer.js';
import { checkConsistency, refuses, type SurfacePlan } from './broadcast.js';

function rendering(key: string, text: string, extra: Partial<Extract<ChannelRendering, { ok: true }>> = {}): ChannelRendering {
  return {
    key,
    ok: true,
    channel: 'status',
    version: 1,
    versionId: 'v1',
    content: { text },
    facts: { channel: 'status', length: text.length, warnings: [] },
    factsShown: ['incident_name', 'status', 'message'],
    ...extra,
  };
}

function plan(overrides: Partial<SurfacePlan> = {}): SurfacePlan {
  return {
    incident: { name: 'Product pages down', status: 'identified', drill: false },
    components: [{ name: 'Showroom CDN', status: 'major_outage', given: false }],
    channels: [
      { surface: 'status_page', enabled: true, rendering: rendering('status.notice', 'We found the cause.') },
      { surface: 'slack', enabled: true, rendering: rendering('slack.update', 'Identified.') },
    ],
    ...overrides,
  };
}

describe('publish once, everywhere: consistency', () => {
  test('an ordinary update agrees everywhere', () => {
    expect(checkConsistency(plan())).toEqual([]);
  });

  test('resolved while a component it names stays down is refused, naming the component', () => {
    const problems = checkConsistency(
      plan({
        incident: { name: 'Product pages down', status: 'resolved', drill: false },
        components: [
          { name: 'Showroom CDN', status: 'major_outage', given: true },
          { name: 'Product API', status: 'operational', given: false },
        ],
      }),
    );
    expect(refuses(problems)).toBe(true);
    expect(problems[0]?.message).toContain('Showroom CDN would still show major outage');
  });

  test('open with every component operational is a warning (suggests monitoring), not a refusal', () => {
    const problems = checkConsistency(plan({ components: [{ name: 'Showroom CDN', status: 'operational', given: true }] }));
    expect(problems.map((p) => [p.level, p.code])).toEqual([['warning', 'open_but_operational']]);
    expect(
      checkConsistency(
        plan({
          incident: { name: 'x', status: 'monitoring', drill: false },
          components: [{ name: 'Showroom CDN', status: 'operational', given: true }],
        }),
      ),
    ).toEqual([]);
  });

  test('an enabled channel without an approved template refuses; a disabled one does not matter', () => {
    const broken: ChannelRendering = {
      key: 'social.post',
      ok: false,
      error: { code: 'template_not_approved', message: 'Template social.post has no approved version.' },
    };
    const on = checkConsistency(plan({ channels: [{ surface: 'social', enabled: true, rendering: broken }] }));
    expect(refuses(on)).toBe(true);
    expect(on[0]?.message).toBe('Social post: Template social.post has no approved version.');
    expect(checkConsistency(plan({ channels: [{ surface: 'social', enabled: false, rendering: broken }] }))).toEqual([]);
    // The status page shows the update as written: its template is only a suggestion.
    const notice: ChannelRendering = { ...broken, key: 'status.notice' };
    expect(checkConsistency(plan({ channels: [{ surface: 'status_page', enabled: true, rendering: notice }] }))).toEqual([]);
  });

  test('a social post over its limit refuses; a long SMS and a promised next update after resolution warn', () => {
    const social = rendering('social.post', 'x', {
      facts: {
        channel: 'social',
        length: 520,
        warnings: [],
        social: { length: 520, limit: 500, remaining: -20, over_by: 20, links: 0 },
      },
    });
    const over = checkConsistency(plan({ channels: [{ surface: 'social', enabled: true, rendering: social }] }));
    expect(over).toMatchObject([{ level: 'error', code: 'over_limit' }]);
    expect(over[0]?.message).toContain('20 characters over the 500-character limit');

    const sms = rendering('sms.update', 'y', {
      facts: {
        channel: 'sms',
        length: 700,
        warnings: [],
        sms: {
          encoding: 'UCS-2',
          characters: 300,
          units: 300,
          segments: 5,
          per_segment: 67,
          remaining: 35,
          extension_characters: [],
        } as never,
      },
      factsShown: ['incident_name', 'status', 'message', 'next_update_at'],
    });
    const resolved = checkConsistency(
      plan({
        incident: { name: 'x', status: 'resolved', drill: false },
        components: [],
        channels: [{ surface: 'subscribers_sms', enabled: true, rendering: sms }],
      }),
    );
    expect(resolved.map((p) => p.code).sort()).toEqual(['next_update_after_resolution', 'sms_long']);
    expect(refuses(resolved)).toBe(false);
  });
});
