import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import type { DrillView } from './drills.service.js';
import { computeScorecard, formatScorecard } from './scorecard.js';
import type { DrillTarget } from './target.js';

/**
 * A showroom whose API entry point the drill breaks: breaking it makes the team's monitoring
 * fire an alert for the component (as a failing probe would), restoring it resolves the alert.
 */
class SignalTarget implements DrillTarget {
  readonly name = 'test showroom';
  broken: string[] = [];
  restored: string[] = [];
  constructor(private readonly c: () => TestContext) {}
  components(scenario: string): readonly string[] {
    return scenario === 'api' ? ['Showroom API'] : [];
  }
  async #signal(state: 'firing' | 'resolved') {
    const { services } = this.c();
    const api = (await services.components.list()).find((x) => x.name === 'Showroom API');
    await services.detection.recordSignals([
      {
        source: 'test',
        fingerprint: 'api-down',
        componentId: api?.id ?? null,
        state,
        severity: 'down',
        summary: 'API answers 503',
      },
    ]);
  }
  async break(scenario: string) {
    this.broken.push(scenario);
    await this.#signal('firing');
  }
  async restore(scenario: string) {
    this.restored.push(scenario);
    await this.#signal('resolved');
  }
}

describeEachDialect('drills', (dialect) => {
  let c: TestContext;
  let target: SignalTarget;
  let fallbackUp = false;

  beforeAll(async () => {
    c = await createTestContext(dialect, { config: { 'detection.declare': 'suggest', 'status.includeDrills': true } });
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    await c.services.components.create(TEST_ACTOR, { name: 'Showroom API', kind: 'api' });
    target = new SignalTarget(() => c);
    c.services.drills.setTarget(target);
    c.services.drills.setFallbackProbe(async () => fallbackUp);
  }, 60_000);

  afterAll(async () => {
    await c?.close();
  });

  const pump = async (steps: number, everyMs: number, during?: (i: number) => Promise<void>) => {
    for (let i = 0; i < steps; i++) {
      await c.worker.pump();
      await during?.(i);
      c.clock.advance(everyMs);
    }
    await c.worker.pump();
  };

  test('a drill breaks the entry point, the drill incident runs, it is restored, resolved and scored', async () => {
    const admin = await c.token('admin');
    const denied = await c.call('POST', '/api/v1/drills', { token: await c.token('viewer'), body: { scenario: 'api' } });
    expect(denied.statusCode).toBe(403);
    const bad = await c.call('POST', '/api/v1/drills', { token: admin, body: { scenario: 'database' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('scenario');
    const noComponents = await c.call('POST', '/api/v1/drills', { token: admin, body: { scenario: 'cdn' } });
    expect(noComponents.statusCode).toBe(422);

    const started = await c.call('POST', '/api/v1/drills', { token: admin, body: { scenario: 'api', hold_seconds: 60 } });
    expect(started.statusCode).toBe(201);
    const drill = started.json() as DrillView;
    expect(drill.state).toBe('running');
    const again = await c.call('POST', '/api/v1/drills', { token: admin, body: { scenario: 'api' } });
    expect(again.statusCode).toBe(409);

    // Step a second at a time; the commander publishes the first update 35 s in, the mirror is up 40 s in.
    await pump(90, 1000, async (i) => {
      const d = (await c.services.drills.get(drill.id)) as DrillView;
      if (i === 35 && d.incident_id) {
        await c.services.incidents.postUpdate(TEST_ACTOR, d.incident_id, {
          status: 'identified',
          message: 'The API is down; the backup catalog is up.',
        });
      }
      if (i === 40) fallbackUp = true;
    });
    const done = (await c.services.drills.get(drill.id)) as DrillView;
    expect(target.broken).toEqual(['api']);
    expect(target.restored).toEqual(['api']);
    expect(done.state).toBe('done');
    expect(done.incident_id).not.toBeNull();
    const incident = await c.services.incidents.get(done.incident_id as string);
    expect(incident?.incident.drill).toBe(true);
    expect(incident?.incident.status).toBe('resolved');
    const card = done.scorecard;
    expect(card).not.toBeNull();
    const seconds = new Map(card?.milestones.map((m) => [m.key, m.seconds]));
    expect(seconds.get('detect')).toBe(0);
    // Suggest mode with drill timings: declared within the 30 s drill confirmation window.
    expect(seconds.get('declare')).toBeGreaterThan(0);
    expect(seconds.get('declare')).toBeLessThanOrEqual(31);
    expect(seconds.get('acknowledge')).toBeGreaterThanOrEqual(35);
    expect(seconds.get('acknowledge')).toBeLessThan(40);
    expect(seconds.get('fallback')).toBeGreaterThanOrEqual(40);
    expect(card?.checklist.total).toBeGreaterThan(0);
    expect(card?.score).toBeGreaterThan(0);
    // The messages of a drill went to the sinks only.
    const messages = await c.db.kysely
      .selectFrom('messages')
      .select(['drill'])
      .where('incident_id', '=', done.incident_id)
      .execute();
    expect(messages.length).toBeGreaterThan(0); // the acknowledgement's broadcast at least
    expect(messages.every((m) => Number(m.drill) === 1 || m.drill === true)).toBe(true);

    const list = await c.call('GET', '/api/v1/drills', { token: await c.token('viewer') });
    expect((list.json() as { drills: DrillView[] }).drills[0]?.id).toBe(drill.id);
    const page = await c.call('GET', `/console/drills/${drill.id}`, { token: await c.token('viewer') });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Time to first public acknowledgement');
    const trend = await c.call('GET', '/console/drills', { token: await c.token('viewer') });
    expect(trend.body).toContain('Score per drill');
  });
});

test('the scorecard judges each milestone against its target and prints a readable card', () => {
  const card = computeScorecard({
    scenario: 'cdn',
    brokenAt: 0,
    restoredAt: 120_000,
    at: { detect: 10_000, declare: 12_000, acknowledge: 20 * 60_000, fallback: 30_000, tier_a_task: null },
    tierALeads: 0,
    messages: [
      { channel: 'email', tier: 'B', count: 4 },
      { channel: 'sms', tier: 'B', count: 2 },
      { channel: 'status', tier: null, count: 1 },
    ],
    cadence: { ackSeconds: 1188, longestGapSeconds: 1188, lateUpdates: 0, updates: 2 },
    checklist: { total: 8, done: 6, onTime: 5 },
  });
  const m = new Map(card.milestones.map((x) => [x.key, x]));
  expect(m.get('detect')?.on_target).toBe(true);
  expect(m.get('acknowledge')?.on_target).toBe(false); // 20 min > 15 min
  expect(m.get('tier_a_task')?.on_target).toBeNull(); // no Tier A lead: nothing to call
  expect(card.messages).toEqual({ total: 7, by_channel: { email: 4, sms: 2, status: 1 }, by_tier: { B: 6, none: 1 } });
  expect(card.checklist.completion).toBe(75);
  // 3 of 4 milestones, 100 % cadence, 75 % checklist.
  expect(card.score).toBe(Math.round((75 + 100 + 75) / 3));
  const text = formatScorecard(card, { id: 'd1', incidentId: 'i1', state: 'done', error: null }).join('\n');
  expect(text).toContain('Time to first public acknowledgement');
  expect(text).toContain('20 min 0 s');
  expect(text).toContain('MISSED');
  expect(text).toContain('Score: 83/100');
});
