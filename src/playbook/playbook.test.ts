import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MINUTE, SECOND } from '../core/clock.js';
import { actionKey, type EngineEvent, type IncidentFacts, newChecklist, planReconcile, triggerMatches } from './engine.js';
import { defaultPlaybook, formatDuration, formatProblem, parseDuration, parsePlaybook } from './playbook.js';

/** The problems of a playbook text, as `keepwarm playbook check` prints them. */
function problems(text: string): string[] {
  const result = parsePlaybook(text, 'pb.yaml');
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(formatProblem);
}

describe('playbook file: every problem says file:line:column and the setting', () => {
  test('the shipped playbooks/showroom.yaml is valid and says exactly what the built-in playbook says', () => {
    const result = parsePlaybook(
      readFileSync(new URL('../../playbooks/showroom.yaml', import.meta.url), 'utf8'),
      'showroom.yaml',
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.playbook).toEqual(defaultPlaybook());
  });

  test('the defaults are the reference playbook: acknowledge within 15 min, updates every 30 (team) / 60 (promise), report 72 h after resolution', () => {
    const p = defaultPlaybook();
    expect(p.cadence).toMatchObject({ acknowledgeWithin: 15 * MINUTE, targetEvery: 30 * MINUTE, promiseEvery: 60 * MINUTE });
    expect(p.detection).toEqual({
      declare: 'suggest',
      confirmWithin: 5 * MINUTE,
      drillConfirmWithin: 30 * SECOND,
      failuresToDown: 2,
      successesToUp: 2,
    });
    expect(p.crm.tiers.map((t) => t.tier)).toEqual(['A', 'B', 'C']);
    expect(p.checklist.find((i) => i.id === 'report')).toMatchObject({
      due: 72 * 60 * MINUTE,
      from: 'resolved',
      role: 'commander',
    });
    // Acknowledge publicly and switch buyers to the fallback the moment an incident is declared.
    expect(p.rules).toEqual([
      {
        name: 'acknowledge-and-fall-back',
        when: { event: 'incident.declared' },
        actions: [{ action: 'acknowledge' }, { action: 'enable_fallback' }],
      },
    ]);
  });

  test('YAML syntax error', () => {
    expect(problems('version: 1\nname: [unclosed\ncadence:\n')).toEqual([expect.stringMatching(/^pb\.yaml:3:1: .*\]/)]);
  });

  test('unknown key: points at the key and lists the keys allowed there', () => {
    expect(problems('version: 1\ncadence:\n  acknowledgeWithin: 15m\n  promiseEvry: 1h\n')).toEqual([
      'pb.yaml:4:3: cadence.promiseEvry: unknown key "promiseEvry": expected one of acknowledgeWithin, promiseEvery, targetEvery, remindBefore, backupRole, holdingUpdates',
    ]);
    expect(problems('version: 1\ncolour: blue\n')[0]).toMatch(
      /^pb\.yaml:2:1: colour: unknown key "colour": expected one of version, name, roles/,
    );
  });

  test('wrong type', () => {
    expect(problems('version: 1\ndetection:\n  failuresToDown: "three"\n  declare: sometimes\n')).toEqual([
      'pb.yaml:3:19: detection.failuresToDown: expected a whole number, got "three"',
      'pb.yaml:4:12: detection.declare: expected auto, suggest or off, got "sometimes"',
    ]);
  });

  test('bad duration', () => {
    expect(problems('version: 1\ncadence:\n  acknowledgeWithin: 15 minutes\n')).toEqual([
      'pb.yaml:3:22: cadence.acknowledgeWithin: bad duration "15 minutes": expected a duration such as 90s, 15m, 1h30m or 3d',
    ]);
    expect(problems('version: 1\ndetection:\n  drillConfirmWithin: soon\n')).toEqual([
      'pb.yaml:3:23: detection.drillConfirmWithin: bad duration "soon": expected a duration such as 90s, 15m, 1h30m or 3d',
    ]);
    expect(problems('version: 1\ncadence:\n  promiseEvery: 30\n')).toEqual([
      'pb.yaml:3:17: cadence.promiseEvery: expected a duration such as 90s, 15m, 1h30m or 3d, got 30',
    ]);
  });

  test('unknown template key, and a template listed under the wrong channel', () => {
    const out = problems('version: 1\ntemplates:\n  update:\n    email: email.weekly\n    sms: email.hourly_update\n');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(
      /^pb\.yaml:4:12: templates\.update\.email: unknown template key "email\.weekly": the library's email templates are email\.initial_ack, /,
    );
    expect(out[1]).toBe('pb.yaml:5:10: templates.update.sms: template email.hourly_update is for the email channel, not sms');
  });

  test('unknown flag, in an action and as the fallback flag', () => {
    const text = [
      'version: 1',
      'fallback:',
      '  flag: showroom.banner',
      'rules:',
      '  - name: api-down',
      '    when: { event: incident.declared, channel: [API] }',
      '    actions:',
      '      - action: flip_flag',
      '        flag: showroom.configurater',
      '        value: false',
    ].join('\n');
    const out = problems(text);
    expect(out[0]).toBe(
      `pb.yaml:3:9: fallback.flag: unknown flag "showroom.banner": the playbook's flags are showroom.configurator, showroom.checkout, showroom.fallback_banner`,
    );
    expect(out[1]).toMatch(/^pb\.yaml:9:15: rules\.0\.actions\.0\.flag: unknown flag "showroom\.configurater"/);
  });

  test('checklist item referring to an unknown role (not among the playbook roles, or no role at all)', () => {
    const text = [
      'version: 1',
      'roles:',
      '  commander: runs it',
      '  sre: not a console role',
      'checklist:',
      '  - id: call',
      '    title: Call Tier A',
      '    role: sales',
    ].join('\n');
    expect(problems(text)).toEqual([
      'pb.yaml:4:3: roles.sre: unknown role "sre": expected one of admin, commander, marketing, sales, legal, viewer',
      `pb.yaml:8:11: checklist.0.role: unknown role "sales": the playbook's roles are commander, sre`,
    ]);
  });

  test('version: missing, or another format', () => {
    expect(problems('name: x\n')).toEqual(['pb.yaml:1:1: version: missing: a playbook starts with version: 1']);
    expect(problems('version: 2\n')).toEqual(['pb.yaml:1:10: version: unsupported version 2: this Keepwarm reads version 1']);
  });

  test('every problem at once, in file order: unknown action, missing field, a rule triggered by the playbook itself', () => {
    const text = [
      'version: 1',
      'rules:',
      '  - name: loop',
      '    when: { event: playbook.action }',
      '    actions:',
      '      - action: explode',
      '  - name: Bad Name',
      '    when: { event: incident.declared }',
      '    actions:',
      '      - action: notify',
      '        role: sales',
      '        via: email',
      'checklist:',
      '  - id: x',
      '    title: X',
      '    role: commander',
      '    due: soon',
    ].join('\n');
    expect(problems(text)).toEqual([
      `pb.yaml:4:20: rules.0.when.event: the playbook's own events cannot trigger a rule (that could loop); react to the fact instead`,
      'pb.yaml:6:17: rules.0.actions.0.action: unknown action: expected one of acknowledge, enable_fallback, flip_flag, tag_crm, notify',
      'pb.yaml:7:11: rules.1.name: expected lower-case letters, digits, - and _ (such as first-update), got "Bad Name"',
      'pb.yaml:10:9: rules.1.actions.0.template: missing: template is required',
      'pb.yaml:17:10: checklist.0.due: bad duration "soon": expected a duration such as 90s, 15m, 1h30m or 3d',
    ]);
  });

  test('durations', () => {
    expect(['90s', '15m', '1h30m', '72h', '3d', '0', '0m'].map(parseDuration)).toEqual([
      90_000,
      15 * MINUTE,
      90 * MINUTE,
      72 * 60 * MINUTE,
      3 * 24 * 60 * MINUTE,
      0,
      0,
    ]);
    expect(['15', '15 m', 'm', '', '1.5h', '-5m'].map(parseDuration)).toEqual([null, null, null, null, null, null]);
    expect([15 * MINUTE, 90 * MINUTE, 3 * 24 * 60 * MINUTE, 0].map(formatDuration)).toEqual(['15m', '1h30m', '3d', '0m']);
  });
});

describe('playbook engine (pure)', () => {
  const incident: IncidentFacts = { id: 'inc1', declaredAt: 1_000_000, resolvedAt: null, drill: false, channels: ['CDN'] };
  const ev = (id: string, type: string, at: number, data: Record<string, unknown> = {}): EngineEvent => ({ id, type, at, data });
  const playbook = (() => {
    const result = parsePlaybook(
      [
        'version: 1',
        'rules:',
        '  - name: cdn-down',
        '    when: { event: incident.declared, channel: [CDN] }',
        '    actions:',
        '      - action: acknowledge',
        '      - action: enable_fallback',
        '  - name: api-down',
        '    when: { event: incident.declared, channel: [API] }',
        '    actions:',
        '      - action: tag_crm',
      ].join('\n'),
      'pb.yaml',
    );
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    return result.playbook;
  })();

  test('a new checklist: deadlines from the declaration; those counted from the resolution wait for it', () => {
    const items = newChecklist(playbook, incident);
    expect(items.find((i) => i.itemId === 'acknowledge')?.dueAt).toBe(incident.declaredAt + 15 * MINUTE);
    expect(items.find((i) => i.itemId === 'log-interactions')?.dueAt).toBeNull();
    expect(items.find((i) => i.itemId === 'report')?.dueAt).toBeNull();
    const resolved = { ...incident, resolvedAt: incident.declaredAt + 90 * MINUTE };
    const plan = planReconcile({ playbook, incident: resolved, events: [], checklist: items, taken: new Set() });
    expect(plan.deadlines).toEqual([{ itemId: 'report', dueAt: resolved.resolvedAt + 72 * 60 * MINUTE }]);
  });

  test('events complete items (data "*" means present) and trigger the rules of matching channels only', () => {
    const items = newChecklist(playbook, incident);
    const events = [
      ev('e1', 'incident.declared', incident.declaredAt, { commander_id: null }),
      ev('e2', 'update.published', incident.declaredAt + 5 * MINUTE, { status: 'investigating' }),
    ];
    const plan = planReconcile({ playbook, incident, events, checklist: items, taken: new Set() });
    expect(plan.completions.map((c) => [c.itemId, c.event.id])).toEqual([['acknowledge', 'e2']]);
    expect(plan.actions.map((a) => [a.rule, a.actionIndex, a.event.id])).toEqual([
      ['cdn-down', 0, 'e1'],
      ['cdn-down', 1, 'e1'],
    ]);
    expect(
      triggerMatches(
        { event: 'incident.declared', data: { commander_id: '*' } },
        ev('e3', 'incident.declared', 0, { commander_id: 'u1' }),
        incident,
      ),
    ).toBe(true);
    expect(triggerMatches({ event: 'incident.declared', drill: true }, events[0] as EngineEvent, incident)).toBe(false);
  });

  test('replaying the same events plans nothing already taken or done', () => {
    const items = newChecklist(playbook, incident).map((i) =>
      i.itemId === 'acknowledge' ? { ...i, state: 'done' as const } : i,
    );
    const events = [ev('e1', 'incident.declared', incident.declaredAt), ev('e2', 'update.published', incident.declaredAt + 1)];
    const taken = new Set([actionKey('inc1', 'cdn-down', 0, 'e1'), actionKey('inc1', 'cdn-down', 1, 'e1')]);
    const plan = planReconcile({ playbook, incident, events: [...events, ...events], checklist: items, taken });
    expect(plan).toEqual({ completions: [], deadlines: [], actions: [] });
  });
});
