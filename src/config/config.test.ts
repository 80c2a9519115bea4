import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kw-config-'));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  test('defaults: data folder ./data, SQLite file inside it, port 8080', () => {
    const cwd = dir();
    const config = loadConfig({ env: {}, cwd });
    expect(config.dataDir).toBe(join(cwd, 'data'));
    expect(config.databaseUrl).toBe(`sqlite:${join(cwd, 'data', 'keepwarm.sqlite')}`);
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.configFile).toBeNull();
  });

  test('precedence: keepwarm.yaml < environment < flags', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'keepwarm.yaml'), 'port: 7000\ndataDir: ./from-file\nstatus:\n  pageName: From file\n');
    const fileOnly = loadConfig({ env: {}, cwd });
    expect([fileOnly.port, fileOnly.dataDir, fileOnly.status.pageName]).toEqual([7000, join(cwd, 'from-file'), 'From file']);
    const withEnv = loadConfig({ env: { KEEPWARM_PORT: '7100', KEEPWARM_DATABASE_URL: 'postgres://u@h/db' }, cwd });
    expect([withEnv.port, withEnv.databaseUrl]).toEqual([7100, 'postgres://u@h/db']);
    const withFlags = loadConfig({ env: { KEEPWARM_PORT: '7100' }, cwd, overrides: { port: '7200', dataDir: '/srv/kw' } });
    expect([withFlags.port, withFlags.dataDir]).toEqual([7200, '/srv/kw']);
  });

  test('invalid configuration lists every problem with its key, source and what was expected', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'keepwarm.yaml'), 'prot: 80\nstatus:\n  includeDrills: maybe\n');
    const problems = problemsOf(() =>
      loadConfig({ env: { KEEPWARM_PORT: 'eighty', KEEPWARM_PUBLIC_URL: 'not a url', KEEPWARM_JOBS_CONCURRENCY: '0' }, cwd }),
    );
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toContain('port (from KEEPWARM_PORT): expected a port number, got "eighty"');
    expect(problems.join('\n')).toContain('publicUrl (from KEEPWARM_PUBLIC_URL): expected an absolute http(s) URL');
    expect(problems.join('\n')).toContain('status.includeDrills (from keepwarm.yaml): expected true or false, got "maybe"');
    expect(problems.join('\n')).toContain('unknown setting "prot"');
    expect(problems.join('\n')).toMatch(/jobs\.concurrency \(from KEEPWARM_JOBS_CONCURRENCY\).*got "0"/);
  });

  test('a YAML syntax error points at the line', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'broken.yaml'), 'port: 80\n  bad: [\n');
    const problems = problemsOf(() => loadConfig({ env: {}, cwd, file: 'broken.yaml' }));
    expect(problems[0]).toMatch(/broken\.yaml:\d+:\d+/);
  });

  test('a named config file that does not exist is an error, not a silent default', () => {
    expect(problemsOf(() => loadConfig({ env: { KEEPWARM_CONFIG: 'nope.yaml' }, cwd: dir() }))).toEqual([
      'config file nope.yaml: not found',
    ]);
  });
});
