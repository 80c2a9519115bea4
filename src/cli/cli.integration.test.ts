import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cleanEnv, REPO_ROOT, runCli, waitForExit, waitForLine } from '../../test/harness/processes.js';

const childPids = (pid: number | undefined): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)])
    .toString()
    .trim()
    .split(/\s+/)
    .map(Number);

const tmp = () => mkdtempSync(join(tmpdir(), 'kw-cli-'));

function startCli(args: string[]) {
  return spawn(process.execPath, [`${REPO_ROOT}bin/keepwarm`, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('keepwarm CLI', () => {
  test('--help lists the commands and exits 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const cmd of ['start', 'migrate', 'user', 'token', 'demo']) expect(res.stdout).toContain(cmd);
  });

  test('invalid configuration: exit code 2 and every problem listed with its key', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.yaml'), 'jobs:\n  concurrency: lots\n');
    const res = await runCli(['migrate', '--config', join(dir, 'bad.yaml'), '--port', '99999'], {
      KEEPWARM_PUBLIC_URL: 'not-a-url',
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('invalid configuration (3 problems)');
    expect(res.stderr).toContain('port (from --port)');
    expect(res.stderr).toContain('publicUrl (from KEEPWARM_PUBLIC_URL)');
    expect(res.stderr).toContain('jobs.concurrency');
  });

  test('migrate, user create and token create on a fresh data folder; the token is the last line and works', async () => {
    const dir = tmp();
    const first = await runCli(['migrate', '--data-dir', dir]);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('applied: 001-foundation');
    expect((await runCli(['migrate', '--data-dir', dir])).stdout).toContain('database is up to date');

    const user = await runCli(['user', 'create', '--email', 'ic@example.test', '--role', 'commander', '--data-dir', dir]);
    expect(user.code).toBe(0);
    const password = /password: (\S+)/.exec(user.stdout)?.[1];
    expect(password).toBeDefined();
    const badRole = await runCli(['user', 'create', '--email', 'x@example.test', '--role', 'overlord', '--data-dir', dir]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('overlord');

    const tokenRun = await runCli(['token', 'create', '--role', 'admin', '--name', 'ci', '--data-dir', dir]);
    expect(tokenRun.code).toBe(0);
    const token = tokenRun.stdout.trim().split('\n').at(-1) as string;
    expect(token).toMatch(/^kw_/);

    const server = startCli(['start', '--data-dir', dir, '--port', '0', '--log-level', 'info']);
    try {
      const [, url] = await waitForLine(server, /"url":"(http:\/\/[^"]+)"/);
      const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ type: 'token', name: 'ci', role: 'admin' });
      const login = await fetch(`${url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ic@example.test', password }),
      });
      expect(login.status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // A real installation starts with the default template library awaiting legal review.
      const library = (await (
        await fetch(`${url}/api/v1/templates?limit=100`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        awaiting_review: number;
        templates: Array<{ key: string; state: string }>;
      };
      expect(library.awaiting_review).toBeGreaterThanOrEqual(10);
      expect(library.templates.find((t) => t.key === 'email.initial_ack')?.state).toBe('in_review');
    } finally {
      server.kill('SIGTERM');
    }
    expect(await waitForExit(server)).toBe(0);
  }, 60_000);

  test('start --web-processes 2: both serve the port, a web process that dies is replaced, SIGTERM stops all', async () => {
    const dir = tmp();
    const server = startCli(['start', '--data-dir', dir, '--port', '0', '--web-processes', '2', '--log-level', 'info']);
    let log = '';
    server.stdout?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    try {
      const [, url] = await waitForLine(server, /"msg":"keepwarm started"/).then(
        () => /"url":"(http:\/\/[^"]+)"/.exec(log) as RegExpExecArray,
      );
      expect(log).toContain('"webProcesses":2');
      const children = childPids(server.pid);
      expect(children).toHaveLength(2);
      // Listen for the lines before the kill: they can come before a later listener attaches.
      const died = waitForLine(server, /web process died; starting another/);
      const replaced = waitForLine(server, /Server listening/);
      process.kill(children[0] as number, 'SIGKILL');
      await died;
      for (let i = 0; i < 20; i++) expect((await fetch(`${url}/api/v2/status.json`)).status).toBe(200);
      await replaced;
      const after = childPids(server.pid);
      expect(after).toHaveLength(2);
      expect(after).not.toContain(children[0]);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await waitForExit(server)).toBe(0);
  }, 60_000);

  test('keepwarm demo seeds a working console and prints credentials that work', async () => {
    const dir = tmp();
    const demo = startCli(['demo', '--data-dir', dir, '--port', '0']);
    let output = '';
    demo.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    try {
      await waitForLine(demo, /Press Ctrl\+C to stop/);
      const url = /Console\s+(http:\/\/\S+)\/console/.exec(output)?.[1] as string;
      const email = /Sign in as\s+(\S+)/.exec(output)?.[1];
      const password = /Password\s+(\S+)/.exec(output)?.[1];
      const token = /Admin token\s+(\S+)/.exec(output)?.[1];
      const summary = (await (await fetch(`${url}/api/v2/summary.json`)).json()) as { components: Array<{ group: boolean }> };
      expect(summary.components.filter((c: { group: boolean }) => !c.group)).toHaveLength(6);
      const login = await fetch(`${url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      expect(login.status).toBe(200);
      expect((await fetch(`${url}/api/v1/incidents`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const page = await fetch(`${url}/console`, { redirect: 'manual' });
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/login?next=%2Fconsole');
      // The demo showroom answers with the catalog and Keepwarm's scripts; its API health path too.
      const showroom = /Showroom\s+(http:\/\/\S+)\//.exec(output)?.[1] as string;
      const home = await fetch(`${showroom}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain(`${url}/sdk/keepwarm-events.js`);
      expect((await fetch(`${showroom}/api/health`)).status).toBe(200);
    } finally {
      demo.kill('SIGTERM');
    }
    expect(await waitForExit(demo)).toBe(0);
  }, 60_000);
});
