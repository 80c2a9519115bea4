import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { MINUTE } from '../core/clock.js';
import { defaultPlaybook } from './playbook.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kw-playbook-load-'));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loading the playbook with the configuration', () => {
  test('no playbooks/showroom.yaml: the built-in playbook, and one line saying so', () => {
    const config = loadConfig({ env: {}, cwd: dir() });
    expect(config.playbook).toEqual(defaultPlaybook());
    expect(config.playbookFile).toBeNull();
    expect(config.notices).toEqual([
      'playbook: playbooks/showroom.yaml not found; using the built-in playbook (the same defaults)',
    ]);
  });

  test('playbooks/showroom.yaml under the working directory is read; KEEPWARM_PLAYBOOK names another file', () => {
    const cwd = dir();
    mkdirSync(join(cwd, 'playbooks'));
    writeFileSync(join(cwd, 'playbooks', 'showroom.yaml'), 'version: 1\ncadence:\n  acknowledgeWithin: 10m\n');
    writeFileSync(join(cwd, 'other.yaml'), 'version: 1\ndetection:\n  declare: auto\n');
    const config = loadConfig({ env: {}, cwd });
    expect(config.playbookFile).toBe(join(cwd, 'playbooks', 'showroom.yaml'));
    expect(config.playbook.cadence.acknowledgeWithin).toBe(10 * MINUTE);
    const other = loadConfig({ env: { KEEPWARM_PLAYBOOK: 'other.yaml' }, cwd });
    expect(other.playbook.detection.declare).toBe('auto');
    expect(other.notices[0]).toBe('playbook: loaded from other.yaml');
  });

  test('a named playbook that does not exist, or an invalid one, stops the start with file:line:column', () => {
    const cwd = dir();
    expect(problemsOf(() => loadConfig({ env: { KEEPWARM_PLAYBOOK: 'missing.yaml' }, cwd }))).toEqual([
      'playbook missing.yaml:1:1: playbook file not found',
    ]);
    writeFileSync(join(cwd, 'bad.yaml'), 'version: 1\ncadence:\n  acknowledgeWithin: soon\n');
    expect(problemsOf(() => loadConfig({ env: {}, cwd, overrides: { playbook: 'bad.yaml' } }))).toEqual([
      'playbook bad.yaml:3:22: cadence.acknowledgeWithin: bad duration "soon": expected a duration such as 90s, 15m, 1h30m or 3d',
    ]);
  });

  test('settings that moved to the playbook still work from the config, over the playbook; the config file ones with a deprecation notice', () => {
    const cwd = dir();
    writeFileSync(
      join(cwd, 'keepwarm.yaml'),
      'status:\n  cadence:\n    promiseMinutes: 45\ncrm:\n  callWithinMinutes: 10\n  taskArrAbove: 5000\n',
    );
    const config = loadConfig({
      env: { KEEPWARM_HOLDING_UPDATES: 'true' },
      cwd,
      overrides: { 'detection.declare': 'auto', 'detection.confirmWithinMinutes': 2 },
    });
    expect(config.playbook.cadence).toMatchObject({
      promiseEvery: 45 * MINUTE,
      holdingUpdates: true,
      acknowledgeWithin: 15 * MINUTE,
    });
    expect(config.playbook.crm).toMatchObject({ callWithin: 10 * MINUTE, taskArrAbove: 5000 });
    expect(config.playbook.detection).toMatchObject({ declare: 'auto', confirmWithin: 2 * MINUTE });
    expect(config.notices.filter((n) => n.includes('deprecated'))).toEqual([
      'config: status.cadence.promiseMinutes is deprecated; set cadence.promiseEvery in the playbook instead (the config value still wins for now)',
      'config: crm.taskArrAbove is deprecated; set crm.taskArrAbove in the playbook instead (the config value still wins for now)',
      'config: crm.callWithinMinutes is deprecated; set crm.callWithin in the playbook instead (the config value still wins for now)',
    ]);
    // The moved keys are no longer part of the configuration object: one place for each setting.
    expect('cadence' in config.status).toBe(false);
    expect('declare' in config.detection).toBe(false);
  });
});
