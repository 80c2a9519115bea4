import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type HttpStandin, startHttpStandin } from '../../test/harness/http-standin.js';
import { main } from '../cli/main.js';

/** A Keepwarm that starts the drill, cuts the connection of the first two polls, then reports it done. */
let keepwarm: HttpStandin;
const drill = {
  id: 'drill-1',
  scenario: 'api',
  target: 'demo showroom',
  hold_seconds: 10,
  incident_id: 'incident-1',
  broken_at: '2026-11-29T03:00:00.000Z',
  restored_at: null,
  progress: { detect: null, declare: null, acknowledge: null, fallback: null, tier_a_task: null },
  scorecard: null,
  error: null,
};
let polls = 0;

beforeAll(async () => {
  keepwarm = await startHttpStandin({
    respond: (req) => {
      if (req.method === 'POST' && req.path === '/api/v1/drills') return { status: 201, body: { ...drill, state: 'running' } };
      if (req.method === 'GET' && req.path === '/api/v1/drills/drill-1') {
        polls++;
        return polls <= 2 ? { drop: true } : { status: 200, body: { ...drill, state: 'done' } };
      }
      return { status: 404, body: { error: { code: 'not_found', message: req.path } } };
    },
  });
});
afterAll(async () => {
  await keepwarm?.close();
});

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream: stream as never, text: () => text };
}

test('keepwarm drill keeps following the drill when a poll loses its connection', async () => {
  const out = capture();
  const err = capture();
  const code = await main(['drill', '--server', keepwarm.url, '--token', 'kw_test', '--hold', '10', '--json'], {
    stdout: out.stream,
    stderr: err.stream,
  });
  expect(err.text()).toBe('');
  expect(code).toBe(0);
  expect(polls).toBe(3);
  expect(JSON.parse(out.text())).toMatchObject({ id: 'drill-1', state: 'done' });
}, 30_000);
