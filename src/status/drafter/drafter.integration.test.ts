import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { MINUTE, toIso } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { seedDefaultTemplates } from '../../messaging/default-templates.js';
import { DrafterService } from './drafter.service.js';

const FALLBACK = 'https://catalog.example.test';
const KEY = 'sk-test-drafter-key-0001';

/** An OpenAI-style chat-completions answer. */
function completion(content: string) {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'test-model',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    },
  };
}

describeEachDialect('update drafter', (dialect) => {
  let c: TestContext;
  let llm: HttpStandin;
  let id: string;
  let token: string;

  beforeAll(async () => {
    llm = await startHttpStandin();
    c = await createTestContext(dialect, {
      config: {
        'status.fallbackUrl': FALLBACK,
        'status.drafter.llmBaseUrl': `${llm.url}/v1`,
        'status.drafter.llmModel': 'test-model',
        'status.drafter.llmApiKey': KEY,
        'status.drafter.llmTimeoutSeconds': 0.5,
      },
    });
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    token = await c.token('commander');
    const component = async (name: string, kind: string) =>
      (await c.call('POST', '/api/v1/components', { token, body: { name, kind } })).json().id as string;
    const api = await component('Product API', 'api');
    const cdn = await component('Showroom CDN', 'cdn');
    const declared = await c.call('POST', '/api/v1/incidents', {
      token,
      body: {
        name: 'Product pages down',
        message: 'Product pages do not load for some visitors.',
        scope: ['eu-west'],
        components: [
          { id: api, status: 'partial_outage' },
          { id: cdn, status: 'degraded_performance' },
        ],
      },
    });
    id = declared.json().id;
    c.clock.advance(20 * MINUTE);
    // Detection sees it get worse after the last public update.
    await c.services.incidents.recordDetection(TEST_ACTOR, id, {
      components: [{ id: api, status: 'major_outage' }],
      summary: 'API probes fail in eu-west',
      reasons: [],
      kind: 'signal',
    });
  });
  afterAll(async () => {
    await c?.close();
    await llm?.close();
  });

  const draft = (body: unknown = {}, as = token) => c.call('POST', `/api/v1/incidents/${id}/draft`, { token: as, body });
  const nextAt = () => toIso(c.clock.now() + 60 * MINUTE).slice(11, 16);

  test('templates only (no LLM configured): the approved skeleton with the facts, deterministic', async () => {
    const drafter = new DrafterService({
      db: c.db,
      clock: c.clock,
      templates: c.services.templates,
      log: silentLogger,
      options: { fallbackUrl: FALLBACK, promiseMs: 60 * MINUTE, llm: undefined },
    });
    const a = await drafter.draft(id);
    const b = await drafter.draft(id);
    expect(a.text).toBe(b.text);
    expect(a).toMatchObject({ source: 'template', skeleton: { key: 'status.draft_investigating', version: 1 } });
    expect(a.fallback_reason).toBeUndefined();
    expect(a.text).toContain('Product API (major outage), Showroom CDN (degraded performance)');
    expect(a.text).toContain('visitors in eu-west');
    expect(a.text).toContain('since 20 min ago');
    expect(a.text).toContain('Since our last update, Product API went from partial outage to major outage.');
    expect(a.text).toContain(FALLBACK);
    expect(a.text).toContain(`Next update by ${nextAt()} UTC`);
    expect(a.facts).toMatchObject({ status: 'investigating', status_changed: false, scope: ['eu-west'] });

    const identified = await drafter.draft(id, 'identified');
    expect(identified.skeleton?.key).toBe('status.draft_identified');
    expect(identified.facts.status_changed).toBe(true);
    expect(llm.requests).toHaveLength(0);
  });

  test('with an LLM endpoint: its answer is used, sent the OpenAI way with the model, messages and bearer key', async () => {
    llm.clear();
    const answer = `Product pages are failing for visitors in eu-west; the API got worse. Catalog: ${FALLBACK}. Next update by ${nextAt()} UTC.`;
    llm.script(completion(answer));
    const res = await draft({ status: 'investigating' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ text: answer, source: 'llm', skeleton: { key: 'status.draft_investigating' } });
    const request = llm.requests[0];
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    const sent = request?.json() as { model: string; messages: Array<{ role: string; content: string }> };
    expect(sent.model).toBe('test-model');
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(sent.messages[1]?.content).toContain('Product API');
    expect(sent.messages[0]?.content).toContain(FALLBACK);
  });

  test('any LLM failure keeps the template draft and says why', async () => {
    const good = `All fine soon. ${FALLBACK} Next update by ${nextAt()} UTC.`;
    const cases: Array<[Parameters<HttpStandin['script']>[0], RegExp]> = [
      [{ status: 500, body: 'upstream exploded' }, /HTTP 500: upstream exploded/],
      [{ status: 200, body: 'not json at all' }, /not JSON/],
      [{ status: 200, body: { choices: [] } }, /no choices\[0\]\.message\.content/],
      [completion(''), /the answer was empty/],
      [completion(`${good} ${'y'.repeat(1100)}`), /at most 1000/],
      [completion(`Next update by ${nextAt()} UTC.`), /dropped the fallback URL/],
      [completion(`See ${FALLBACK}.`), /dropped the next update time/],
      [{ ...completion(good), delayMs: 1500 }, /no answer within 0\.5 s/],
      [{ drop: true }, /request failed/],
    ];
    for (const [response, reason] of cases) {
      llm.clear();
      llm.script(response);
      const res = await draft();
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.source, String(reason)).toBe('template');
      expect(body.fallback_reason, String(reason)).toMatch(reason);
      expect(body.text).toContain('Since our last update, Product API went from partial outage to major outage.');
    }
  });

  test('drafting never publishes; bad input is a 4xx naming the field', async () => {
    const before = (await c.services.incidents.get(id)).updates.length;
    llm.respondWith(completion('x'));
    await draft();
    expect((await c.services.incidents.get(id)).updates).toHaveLength(before);

    const bad = await draft({ status: 'exploded' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error.details)).toContain('status');
    const extra = await draft({ tone: 'cheerful' });
    expect(extra.statusCode).toBe(400);
    expect(JSON.stringify(extra.json().error)).toContain('tone');
    expect((await c.call('POST', '/api/v1/incidents/nope/draft', { token, body: {} })).statusCode).toBe(404);
    expect((await draft({}, await c.token('viewer'))).statusCode).toBe(403);
  });
});
