import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestContext, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type HttpStandin, type RecordedHttpRequest, startHttpStandin } from '../../../test/harness/http-standin.js';
import { type HubspotStandin, startHubspotStandin } from '../../../test/harness/hubspot-standin.js';
import { FakeClock, SECOND } from '../../core/clock.js';
import { PermanentError } from '../../core/errors.js';
import { toDbBool, toDbJson } from '../../db/codec.js';
import { findJobByKey } from '../../db/jobs/jobs.repo.js';
import { verifyWebhook } from '../../messaging/providers/webhook.js';
import type { CrmTagsPayload } from './connectors.js';
import { CONNECTORS_SYNC_JOB, HUBSPOT_SYNC_JOB, WEBHOOK_SYNC_JOB } from './connectors.service.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describeEachDialect('CRM connectors', (dialect) => {
  let ctx: TestContext;
  let receiver: HttpStandin;
  let hubspot: HubspotStandin;
  const clock = new FakeClock();
  let seq = 0;

  beforeAll(async () => {
    receiver = await startHttpStandin();
    hubspot = await startHubspotStandin({ now: () => clock.now(), budget: 1000 });
    ctx = await createTestContext(dialect, {
      clock,
      config: {
        'crm.webhook': { url: `${receiver.url}/crm-hook`, secret: SECRET },
        'crm.hubspot': hubspot.config(),
      },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await receiver?.close();
    await hubspot?.close();
  });

  /** An incident on a CDN component with `count` leads tagged for it. */
  async function seedIncident(
    count: number,
    lead: (i: number) => { external_id?: string | null; email?: string } = () => ({}),
  ): Promise<{ incidentId: string; leadIds: string[] }> {
    const n = ++seq;
    const now = clock.now();
    const incidentId = `inc-${dialect}-${n}`;
    await ctx.db.tx(async (trx) => {
      await trx
        .insertInto('components')
        .values({
          id: `cmp-${n}`,
          name: `Edge ${n}`,
          kind: 'cdn',
          group_name: null,
          description: null,
          position: n,
          status: 'major_outage',
          only_show_if_degraded: toDbBool(false),
          created_at: now,
          updated_at: now,
        })
        .execute();
      await trx
        .insertInto('incidents')
        .values({
          id: incidentId,
          name: `Showroom down ${n}`,
          status: 'investigating',
          impact: 'major',
          commander_id: null,
          scope: toDbJson({ kind: 'global' }),
          drill: toDbBool(false),
          started_at: now,
          detected_at: now,
          declared_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await trx
        .insertInto('incident_components')
        .values({ incident_id: incidentId, component_id: `cmp-${n}`, status: 'major_outage', added_at: now })
        .execute();
      const rows = Array.from({ length: count }, (_, i) => {
        const extra = lead(i);
        return {
          id: `lead-${n}-${String(i).padStart(5, '0')}`,
          external_id: extra.external_id ?? null,
          email: extra.email ?? `buyer${i}.${n}.${dialect}@example.test`,
          lifecycle: 'lead',
          consent_email: 'granted',
          consent_sms: 'unknown',
          attributes: toDbJson({}),
          outage_status: 'active',
          outage_channel: 'CDN',
          outage_priority: i % 3 === 0 ? 'high' : 'low',
          fallback_sent: toDbBool(i % 2 === 0),
          outage_incident_id: incidentId,
          tier: i % 3 === 0 ? 'A' : 'C',
          tier_rule: i % 3 === 0 ? 'demo today, ARR over $25K' : 'rest of the pipeline',
          tagged_at: now,
          created_at: now,
          updated_at: now,
        };
      });
      for (let i = 0; i < rows.length; i += 400)
        await trx
          .insertInto('leads')
          .values(rows.slice(i, i + 400))
          .execute();
    });
    return { incidentId, leadIds: Array.from({ length: count }, (_, i) => `lead-${n}-${String(i).padStart(5, '0')}`) };
  }

  async function enqueue(kind: string, incidentId: string, key = `${kind}@${incidentId}@${++seq}`): Promise<string> {
    await ctx.db.tx((trx) => ctx.services.jobs.enqueue(trx, { kind, payload: { incidentId }, key }));
    return key;
  }

  function hooks(): RecordedHttpRequest[] {
    return receiver.requests.filter((r) => r.path === '/crm-hook');
  }

  describe('outbound webhook', () => {
    test('1,200 tagged leads arrive as 3 signed batches; a later change sends only the changed leads', async () => {
      receiver.clear();
      const { incidentId, leadIds } = await seedIncident(1200);
      await enqueue(CONNECTORS_SYNC_JOB, incidentId);
      await ctx.worker.pump();

      const batches = hooks();
      expect(batches).toHaveLength(3);
      const seen: string[] = [];
      for (const request of batches) {
        // Verify like a receiver: the raw body, the three headers and the shared secret.
        const ok = verifyWebhook({
          id: request.headers['webhook-id'] as string,
          timestamp: request.headers['webhook-timestamp'] as string,
          signature: request.headers['webhook-signature'] as string,
          body: request.body,
          secret: SECRET,
          now: clock.now(),
        });
        expect(ok).toBe(true);
        expect(
          verifyWebhook({
            ...{
              id: request.headers['webhook-id'] as string,
              timestamp: request.headers['webhook-timestamp'] as string,
              signature: request.headers['webhook-signature'] as string,
            },
            body: `${request.body} `,
            secret: SECRET,
            now: clock.now(),
          }),
        ).toBe(false);
        const payload = request.json() as CrmTagsPayload;
        expect(payload.type).toBe('keepwarm.crm.tags');
        expect(payload.incident).toEqual({
          id: incidentId,
          name: expect.stringContaining('Showroom down'),
          status: 'investigating',
          channel: 'CDN',
        });
        seen.push(...payload.leads.map((l) => l.id));
      }
      expect(batches.map((b) => (b.json() as CrmTagsPayload).leads.length)).toEqual([500, 500, 200]);
      expect(new Set(batches.map((b) => b.headers['webhook-id'])).size).toBe(3);
      expect(seen.sort()).toEqual(leadIds);
      const first = (batches[0]?.json() as CrmTagsPayload | undefined)?.leads[0];
      expect(first).toEqual({
        id: leadIds[0],
        external_id: null,
        email: expect.stringContaining('@example.test'),
        outage_status: 'active',
        outage_channel: 'CDN',
        outage_priority: 'high',
        fallback_sent: true,
        tier: 'A',
        tier_rule: 'demo today, ARR over $25K',
        re_engaged_at: null,
      });

      // Nothing changed: a second sync sends nothing.
      receiver.clear();
      await enqueue(WEBHOOK_SYNC_JOB, incidentId);
      await ctx.worker.pump();
      expect(hooks()).toHaveLength(0);

      // Recovery of two leads and a re-engagement: one batch with just those three.
      clock.advance(60 * SECOND);
      const later = clock.now();
      await ctx.db.kysely
        .updateTable('leads')
        .set({ outage_status: 'resolved', updated_at: later })
        .where('id', 'in', [leadIds[10] as string, leadIds[900] as string])
        .execute();
      await ctx.db.kysely
        .updateTable('leads')
        .set({ re_engaged_at: later, updated_at: later })
        .where('id', '=', leadIds[5] as string)
        .execute();
      await enqueue(WEBHOOK_SYNC_JOB, incidentId);
      await ctx.worker.pump();
      expect(hooks()).toHaveLength(1);
      const changed = (hooks()[0]?.json() as CrmTagsPayload | undefined)?.leads ?? [];
      expect(changed.map((l) => [l.id, l.outage_status, l.re_engaged_at])).toEqual([
        [leadIds[5], 'active', new Date(later).toISOString()],
        [leadIds[10], 'resolved', null],
        [leadIds[900], 'resolved', null],
      ]);
    });

    test('a 500 is retried with the same webhook-id and body; accepted batches are not sent again', async () => {
      receiver.clear();
      const { incidentId } = await seedIncident(700);
      receiver.script({ status: 200 }, { status: 500, body: 'upstream hiccup' });
      const key = await enqueue(WEBHOOK_SYNC_JOB, incidentId);
      await ctx.worker.pump();
      expect(hooks()).toHaveLength(2);
      const job = await findJobByKey(ctx.db.kysely, key);
      expect(job?.state).toBe('queued');
      expect(job?.lastError).toContain('500');
      expect(job?.runAt).toBeGreaterThan(clock.now());

      clock.set(job?.runAt as number);
      await ctx.worker.pump();
      const requests = hooks();
      expect(requests).toHaveLength(3);
      const ids = requests.map((r) => r.headers['webhook-id']);
      expect(ids[1]).toBe(ids[2]);
      expect(ids[0]).not.toBe(ids[1]);
      expect(requests[2]?.body).toBe(requests[1]?.body);
      expect(requests.map((r) => (r.json() as CrmTagsPayload).leads.length)).toEqual([500, 200, 200]);
      expect((await findJobByKey(ctx.db.kysely, key))?.state).toBe('done');
    });

    test("a 400 makes the job dead with the receiver's reason; nothing more is sent", async () => {
      receiver.clear();
      const { incidentId } = await seedIncident(20);
      receiver.script({ status: 400, body: 'unknown field outage_channel' });
      const key = await enqueue(WEBHOOK_SYNC_JOB, incidentId);
      await ctx.worker.pump();
      clock.advance(3600 * SECOND);
      await ctx.worker.pump();
      const job = await findJobByKey(ctx.db.kysely, key);
      expect(job?.state).toBe('dead');
      expect(job?.lastError).toContain('400 unknown field outage_channel');
      expect(hooks()).toHaveLength(1);
    });
  });

  describe('HubSpot', () => {
    test('batch update writes the four outage properties, 100 contacts per request', async () => {
      hubspot.requests.length = 0;
      const ids = Array.from({ length: 150 }, (_, i) =>
        hubspot.addContact({ email: `hs${i}.${dialect}@example.test`, firstname: `Pat ${i}` }),
      );
      const { incidentId } = await seedIncident(150, (i) => ({
        external_id: ids[i] as string,
        email: `hs${i}.${dialect}@example.test`,
      }));
      await enqueue(HUBSPOT_SYNC_JOB, incidentId);
      await ctx.worker.pump();
      const updates = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts/batch/update');
      expect(updates.map((r) => r.status)).toEqual([200, 200]);
      expect(updates.map((r) => (r.body as { inputs: unknown[] }).inputs.length)).toEqual([100, 50]);
      expect(hubspot.requests.some((r) => r.path.endsWith('/search'))).toBe(false);
      expect(hubspot.contacts.get(ids[0] as string)?.properties).toMatchObject({
        outage_status: 'active',
        outage_channel: 'CDN',
        outage_priority: 'high',
        fallback_sent: 'true',
        firstname: 'Pat 0',
      });
      expect(hubspot.contacts.get(ids[1] as string)?.properties).toMatchObject({
        outage_priority: 'low',
        fallback_sent: 'false',
      });
    });

    test('leads without a HubSpot id are found by email (one search per 100) and their ids kept', async () => {
      hubspot.requests.length = 0;
      const found = Array.from({ length: 25 }, (_, i) => hubspot.addContact({ email: `Find${i}.${dialect}@Example.test` }));
      const { incidentId, leadIds } = await seedIncident(30, (i) => ({ email: `find${i}.${dialect}@example.test` }));
      await enqueue(HUBSPOT_SYNC_JOB, incidentId);
      await ctx.worker.pump();
      const searches = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts/search');
      expect(searches).toHaveLength(1);
      const leads = await ctx.db.kysely
        .selectFrom('leads')
        .select(['id', 'external_id'])
        .where('id', 'in', leadIds)
        .orderBy('id')
        .execute();
      expect(leads.slice(0, 25).map((l) => l.external_id)).toEqual(found);
      expect(leads.slice(25).every((l) => l.external_id === null)).toBe(true);
      for (const id of found) expect(hubspot.contacts.get(id)?.properties.outage_status).toBe('active');
      const update = hubspot.requests.find((r) => r.path.endsWith('/batch/update'));
      expect((update?.body as { inputs: unknown[] } | undefined)?.inputs).toHaveLength(25);
    });

    test('a 429 waits for Retry-After without losing the batch or spending an attempt', async () => {
      hubspot.requests.length = 0;
      const ids = Array.from({ length: 10 }, (_, i) => hubspot.addContact({ email: `rl${i}.${dialect}@example.test` }));
      const { incidentId } = await seedIncident(10, (i) => ({
        external_id: ids[i] as string,
        email: `rl${i}.${dialect}@example.test`,
      }));
      hubspot.failNext(
        429,
        { 'retry-after': '7' },
        { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT' },
      );
      const key = await enqueue(HUBSPOT_SYNC_JOB, incidentId);
      const t0 = clock.now();
      await ctx.worker.pump();
      let job = await findJobByKey(ctx.db.kysely, key);
      expect(job?.state).toBe('queued');
      expect(job?.runAt).toBe(t0 + 7 * SECOND);
      expect(job?.attempts).toBe(0);
      clock.advance(7 * SECOND - 1);
      await ctx.worker.pump();
      expect(hubspot.requests).toHaveLength(1);
      clock.advance(1);
      await ctx.worker.pump();
      expect(hubspot.requests.map((r) => [r.status, r.at - t0])).toEqual([
        [429, 0],
        [200, 7 * SECOND],
      ]);
      expect((hubspot.requests[1]?.body as { inputs: unknown[] } | undefined)?.inputs).toHaveLength(10);
      job = await findJobByKey(ctx.db.kysely, key);
      expect(job?.state).toBe('done');
      expect(hubspot.contacts.get(ids[9] as string)?.properties.outage_status).toBe('active');
    });

    test('a spent request budget (X-HubSpot-RateLimit-Remaining: 0) pauses until the window ends', async () => {
      hubspot.requests.length = 0;
      hubspot.setBudget(1, 10 * SECOND);
      const ids = Array.from({ length: 150 }, (_, i) => hubspot.addContact({ email: `bg${i}.${dialect}@example.test` }));
      const { incidentId } = await seedIncident(150, (i) => ({
        external_id: ids[i] as string,
        email: `bg${i}.${dialect}@example.test`,
      }));
      const key = await enqueue(HUBSPOT_SYNC_JOB, incidentId);
      const t0 = clock.now();
      await ctx.worker.pump();
      expect((await findJobByKey(ctx.db.kysely, key))?.runAt).toBe(t0 + 10 * SECOND);
      clock.advance(10 * SECOND);
      await ctx.worker.pump();
      hubspot.setBudget(1000);
      expect(hubspot.requests.map((r) => [r.status, r.at - t0])).toEqual([
        [200, 0],
        [200, 10 * SECOND],
      ]);
      expect((await findJobByKey(ctx.db.kysely, key))?.state).toBe('done');
    });

    test('pull imports HubSpot contacts as leads, page by page, matching existing leads by email', async () => {
      const before = await ctx.db.kysely
        .selectFrom('leads')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const existing = await seedIncident(1, () => ({ email: `pull-known.${dialect}@example.test` }));
      for (const id of [...hubspot.contacts.keys()]) hubspot.contacts.delete(id);
      const knownId = hubspot.addContact({
        email: `Pull-Known.${dialect}@example.test`,
        firstname: 'Known',
        lifecyclestage: 'salesqualifiedlead',
      });
      for (let i = 0; i < 249; i++) {
        hubspot.addContact({
          email: `pull${i}.${dialect}@example.test`,
          firstname: `Ana ${i}`,
          lastname: 'Silva',
          company: 'Acme',
          jobtitle: 'Buyer',
        });
      }
      hubspot.requests.length = 0;
      const admin = await ctx.token('admin');
      const started = await ctx.call('POST', '/api/v1/leads/import/hubspot', { token: admin });
      expect(started.statusCode).toBe(202);
      const runId = started.json().run_id as string;
      await ctx.worker.pump();
      const progress = await ctx.call('GET', `/api/v1/leads/import/hubspot/${runId}`, { token: admin });
      expect(progress.json()).toEqual({ run_id: runId, done: true, pages: 3, contacts: 250, created: 249, updated: 1 });
      const lists = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts');
      expect(lists.map((r) => r.query.get('after'))).toEqual([null, '100', '200']);
      const after = await ctx.db.kysely
        .selectFrom('leads')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(after.n) - Number(before.n)).toBe(250);
      const known = await ctx.db.kysely
        .selectFrom('leads')
        .selectAll()
        .where('id', '=', existing.leadIds[0] as string)
        .executeTakeFirstOrThrow();
      expect([known.external_id, known.first_name, known.lifecycle]).toEqual([knownId, 'Known', 'sql']);
      const ana = await ctx.db.kysely
        .selectFrom('leads')
        .selectAll()
        .where('email', '=', `pull7.${dialect}@example.test`)
        .executeTakeFirstOrThrow();
      expect([ana.first_name, ana.last_name, ana.company, ana.title, ana.source]).toEqual([
        'Ana 7',
        'Silva',
        'Acme',
        'Buyer',
        'hubspot',
      ]);

      // Pulling again changes nothing but the update counts.
      const again = await ctx.call('POST', '/api/v1/leads/import/hubspot', { token: admin });
      await ctx.worker.pump();
      const second = await ctx.call('GET', `/api/v1/leads/import/hubspot/${again.json().run_id}`, { token: admin });
      expect(second.json()).toMatchObject({ done: true, created: 0, updated: 250 });
    });

    test('HubSpot refusing the properties (not created in the portal) is a permanent error naming the property', async () => {
      const strict = await startHubspotStandin({
        properties: ['email', 'firstname'],
        accessToken: hubspot.accessToken,
        firstId: 9_000_000,
      });
      try {
        const { ConnectorService } = await import('./connectors.service.js');
        const service = new ConnectorService({
          db: ctx.db,
          clock,
          jobs: ctx.services.jobs,
          log: ctx.services.log,
          options: { hubspot: strict.config() },
        });
        const id = strict.addContact({ email: 'x@example.test' });
        const { incidentId } = await seedIncident(1, () => ({ external_id: id, email: `strict.${dialect}@example.test` }));
        await expect(service.syncHubspot(incidentId)).rejects.toThrow(PermanentError);
        await expect(service.syncHubspot(incidentId)).rejects.toThrow(/400 Property values were not valid.*outage_status/);
        expect(strict.requests.map((r) => r.status)).toEqual([400, 400]);
      } finally {
        await strict.close();
      }
    });

    test('the pull needs HubSpot configured and a role allowed to import', async () => {
      const sales = await ctx.token('sales');
      const refused = await ctx.call('POST', '/api/v1/leads/import/hubspot', { token: sales });
      expect(refused.statusCode).toBe(403);
      const missing = await ctx.call('GET', '/api/v1/leads/import/hubspot/nope', { token: await ctx.token('admin') });
      expect(missing.statusCode).toBe(404);
    });
  });
});
