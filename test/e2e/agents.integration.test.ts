import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { startLocalMonitor } from '../../src/detection/probes/local.js';
import { useTestContext } from '../harness/context.js';
import { describeEachDialect } from '../harness/databases.js';
import { freePort } from '../harness/ports.js';
import { cleanEnv, REPO_ROOT } from '../harness/processes.js';

/** Probe agents run in real time, and the server stamps their results with its clock: wall time. */
class WallClock extends FakeClock {
  override now(): number {
    return Date.now();
  }
}

const LOOPBACK = '127.0.0.1';
const ORIGIN_HOST = 'origin.keepwarm.test';

interface AgentProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `keepwarm agent` as its own process; its JSON log lines are collected. */
function startAgentProcess(args: string[]): AgentProcess {
  const child = spawn(process.execPath, [`${REPO_ROOT}bin/keepwarm`, 'agent', ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => logs.push({ msg: `stderr: ${chunk.toString()}` }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, logs, exited };
}

/** Poll until `check` returns a value (not undefined/false), failing after `timeoutMs` with what was seen. */
async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeEachDialect('probes from two regions: regional scope, then global', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'detection.declare': 'auto' }, clock: new WallClock() });
  const agents: AgentProcess[] = [];
  let origin: Server;
  let originPort: number;
  let serverUrl: string;
  let admin: string;
  let agentToken: string;
  let componentId: string;
  let monitorId: string;

  const health = async () => {
    const res = await ctx().call('GET', '/api/v1/health', { token: admin });
    const component = (res.json().components as Array<Record<string, unknown>>).find((c) => c.id === componentId);
    return component as {
      status: string;
      scope: 'global' | string[];
      monitors: Array<{ id: string; regions: Array<{ region: string; state: string; last_error: string | null }> }>;
    };
  };
  const regionState = async (region: string) =>
    (await health()).monitors.find((m) => m.id === monitorId)?.regions.find((r) => r.region === region)?.state;

  beforeAll(async () => {
    origin = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => origin.listen(0, LOOPBACK, r));
    originPort = (origin.address() as AddressInfo).port;
    admin = await ctx().token('admin');
    agentToken = await ctx().token('agent');
    const component = await ctx().call('POST', '/api/v1/components', {
      token: admin,
      body: { name: 'Showroom origin', kind: 'origin' },
    });
    componentId = component.json().id;
    const monitor = await ctx().call('POST', '/api/v1/monitors', {
      token: admin,
      body: {
        component: componentId,
        name: 'Origin health',
        type: 'http',
        check: { url: `http://${ORIGIN_HOST}:${originPort}/health`, bodyContains: 'ok', timeoutMs: 1000 },
        interval_seconds: 5,
        regions: ['eu-west', 'us-east'],
        failures_to_down: 2,
        successes_to_up: 2,
      },
    });
    expect(monitor.statusCode).toBe(201);
    monitorId = monitor.json().id;
  });

  afterAll(async () => {
    for (const agent of agents) if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    origin.closeAllConnections();
    await new Promise((r) => origin.close(r));
  });

  test('the monitor role runs its region’s monitors in process and records results', async () => {
    const local = await ctx().call('POST', '/api/v1/monitors', {
      token: admin,
      body: {
        component: componentId,
        name: 'Origin from here',
        type: 'http',
        check: { url: `http://${LOOPBACK}:${originPort}/`, timeoutMs: 1000 },
        interval_seconds: 5,
        regions: ['local'],
      },
    });
    const monitor = startLocalMonitor({ detection: ctx().services.detection, region: 'local', log: silentLogger });
    try {
      await eventually(
        'a result from region local',
        async () => (await health()).monitors.find((m) => m.id === local.json().id)?.regions.find((r) => r.region === 'local'),
        10_000,
      );
      expect(monitor.scheduler.size).toBe(1);
    } finally {
      await monitor.stop();
    }
    expect((await ctx().call('DELETE', `/api/v1/monitors/${local.json().id}`, { token: admin })).statusCode).toBe(204);
  });

  test('the monitor role runs a monitor created through the API at once, not at its next reload', async () => {
    const monitor = startLocalMonitor({
      detection: ctx().services.detection,
      region: 'local',
      log: silentLogger,
      bus: ctx().services.bus,
      reloadMs: 600_000,
    });
    try {
      await monitor.reload();
      expect(monitor.scheduler.size).toBe(0);
      const created = await ctx().call('POST', '/api/v1/monitors', {
        token: admin,
        body: {
          component: componentId,
          name: 'Added while running',
          type: 'http',
          check: { url: `http://${LOOPBACK}:${originPort}/`, timeoutMs: 1000 },
          interval_seconds: 5,
          regions: ['local'],
        },
      });
      expect(created.statusCode).toBe(201);
      await eventually(
        'a result for the new monitor',
        async () => (await health()).monitors.find((m) => m.id === created.json().id)?.regions.find((r) => r.region === 'local'),
        5_000,
      );
      expect((await ctx().call('DELETE', `/api/v1/monitors/${created.json().id}`, { token: admin })).statusCode).toBe(204);
      await eventually('the deleted monitor to stop', async () => monitor.scheduler.size === 0, 5_000);
    } finally {
      await monitor.stop();
    }
  });

  test('eu-west alone sees the origin down: partial outage scoped to eu-west, incident declared; then both: global major outage', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    serverUrl = `http://${LOOPBACK}:${port}`;
    // us-east starts before the server listens: it keeps trying, then loads its assignments.
    const usEast = startAgentProcess([
      '--server',
      serverUrl,
      '--token',
      agentToken,
      '--region',
      'us-east',
      '--reload-seconds',
      '1',
      '--resolve',
      `${ORIGIN_HOST}:${originPort}:127.0.0.1`,
    ]);
    agents.push(usEast);
    await eventually(
      'us-east to find the server unreachable',
      async () => usEast.logs.some((l) => l.msg === 'could not load assignments; keeping the current ones'),
      15_000,
    );
    await ctx().app.listen({ port, host: LOOPBACK });
    await eventually('us-east to see the origin up', async () => (await regionState('us-east')) === 'up', 15_000);

    // eu-west reaches the origin's name at an address where nothing listens.
    const euWest = startAgentProcess([
      '--server',
      serverUrl,
      '--token',
      agentToken,
      '--region',
      'eu-west',
      '--reload-seconds',
      '1',
      '--resolve',
      `${ORIGIN_HOST}:${originPort}:127.0.0.2`,
    ]);
    agents.push(euWest);
    const partial = await eventually(
      'a partial outage in eu-west',
      async () => {
        const h = await health();
        return h.status === 'partial_outage' ? h : undefined;
      },
      25_000,
    );
    expect(partial.scope).toEqual(['eu-west']);
    const eu = partial.monitors[0]?.regions.find((r) => r.region === 'eu-west');
    expect(eu).toMatchObject({ state: 'down', last_error: 'connection refused' });
    expect(await regionState('us-east')).toBe('up');

    // Auto mode: the detection's declare job runs and declares the incident with the regional scope.
    const incident = await eventually(
      'an incident declared',
      async () => {
        await ctx().worker.pump();
        const list = await ctx().call('GET', '/api/v1/incidents?state=open', { token: admin });
        return (list.json().incidents as Array<{ id: string; scope: unknown; impact: string }>)[0];
      },
      10_000,
    );
    expect(incident.scope).toEqual(['eu-west']);
    const component = await ctx().call('GET', `/api/v1/components/${componentId}`, { token: admin });
    expect(component.json().status).toBe('partial_outage');

    // The origin goes down for everyone: us-east confirms it too.
    origin.closeAllConnections();
    await new Promise((r) => origin.close(r));
    const global = await eventually(
      'a global outage',
      async () => {
        const h = await health();
        return h.status === 'major_outage' ? h : undefined;
      },
      25_000,
    );
    expect(global.scope).toBe('global');
    // The health is stored first, then the open incident follows (its own transaction, moments later).
    await eventually(
      'the component to show a major outage',
      async () =>
        (await ctx().call('GET', `/api/v1/components/${componentId}`, { token: admin })).json().status === 'major_outage',
      5_000,
    );
    const open = await ctx().call('GET', '/api/v1/incidents?state=open', { token: admin });
    expect(open.json().incidents).toHaveLength(1);
    const timeline = await ctx().call('GET', `/api/v1/incidents/${incident.id}/timeline`, { token: admin });
    expect(JSON.stringify(timeline.json())).toContain('(global)');

    // Agents stop cleanly on SIGTERM.
    for (const agent of [usEast, euWest]) agent.child.kill('SIGTERM');
    expect(await usEast.exited).toBe(0);
    expect(await euWest.exited).toBe(0);
    expect(usEast.logs.some((l) => l.msg === 'agent stopped')).toBe(true);
    expect(euWest.logs.find((l) => l.msg === 'monitor check failing')).toMatchObject({ error: 'connection refused' });
  });
});
