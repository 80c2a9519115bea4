import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../../test/harness/processes.js';

describe('keepwarm playbook check', () => {
  test('the shipped playbook is valid: exit 0 and a summary', async () => {
    const res = await runCli(['playbook', 'check']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('playbooks/showroom.yaml: valid (8 checklist items, 1 rule, 3 flags, declare suggest)');
  });

  test('every problem with line:column, then exit code 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kw-pbcheck-')), 'bad.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'cadence:',
        '  acknowledgeWithin: 15 minutes',
        'checklist:',
        '  - id: call',
        '    title: Call Tier A',
        '    role: closer',
        'templates:',
        '  update:',
        '    email: email.weekly',
        '',
      ].join('\n'),
    );
    const res = await runCli(['playbook', 'check', file]);
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      `${file}:3:22: cadence.acknowledgeWithin: bad duration "15 minutes": expected a duration such as 90s, 15m, 1h30m or 3d`,
    );
    expect(lines[1]).toMatch(new RegExp(`^${file.replaceAll('.', '\\.')}:7:11: checklist\\.0\\.role: unknown role "closer"`));
    expect(lines[2]).toMatch(/:10:12: templates\.update\.email: unknown template key "email\.weekly"/);
    expect(lines[3]).toBe(`3 problems in ${file}`);
  });

  test('a file that does not exist: exit code 2', async () => {
    const res = await runCli(['playbook', 'check', 'no-such-playbook.yaml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('no-such-playbook.yaml:1:1: playbook file not found');
  });
});
