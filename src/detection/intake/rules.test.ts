import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../config/config.js';
import type { Component } from '../../incidents/components.repo.js';
import type { NormalizedAlert } from './alert.js';
import { ComponentIndex, compileMatcher, compileRules, findRule, mapAlert } from './rules.js';

function component(id: string, name: string): Component {
  return {
    id,
    name,
    kind: 'cdn',
    group: null,
    description: null,
    position: 1,
    status: 'operational',
    onlyShowIfDegraded: false,
    createdAt: 0,
    updatedAt: 0,
  };
}

const components = new ComponentIndex([component('c-cdn', 'Showroom CDN'), component('c-api', 'Product API')]);

function alert(labels: Record<string, string>, extra: Partial<NormalizedAlert> = {}): NormalizedAlert {
  return { fingerprint: 'f', state: 'firing', labels, summary: 's', ...extra };
}

describe('label rules', () => {
  test('values are exact, or /regex/ used as written (anchored only where the rule anchors it)', () => {
    expect(compileMatcher('cdn')('cdn')).toBe(true);
    expect(compileMatcher('cdn')('cdn-edge')).toBe(false);
    expect(compileMatcher('/cdn/')('my-cdn-edge')).toBe(true);
    expect(compileMatcher('/^cdn$/')('my-cdn-edge')).toBe(false);
    expect(compileMatcher('/^CDN-/i')('cdn-edge')).toBe(true);
    expect(compileMatcher('/')('/')).toBe(true);
    expect(compileMatcher('//')('//')).toBe(true);
  });

  test('first matching rule wins; every label of a rule must match; an empty match matches all', () => {
    const rules = compileRules([
      { match: { job: 'blackbox', instance: '/cdn/' }, component: 'Showroom CDN', severity: 'down' },
      { match: { job: 'blackbox' }, component: 'Product API', severity: 'degraded' },
      { match: {}, component: 'Product API', severity: 'down' },
    ]);
    expect(findRule(rules, { job: 'blackbox', instance: 'cdn.example' })?.index).toBe(0);
    expect(findRule(rules, { job: 'blackbox', instance: 'api.example' })?.index).toBe(1);
    expect(findRule(rules, { job: 'other' })?.index).toBe(2);
    // A missing label never matches (not even /.*/).
    expect(findRule(compileRules([{ match: { team: '/.*/' }, component: 'x', severity: 'down' }]), {})).toBeUndefined();
  });

  test('a bad regular expression is a configuration error naming the rule and label', () => {
    expect(() => compileRules([{ match: { instance: '/[/' }, component: 'x', severity: 'down' }])).toThrow(ConfigError);
    expect(() =>
      compileRules([
        { match: { a: 'ok' }, component: 'x', severity: 'down' },
        { match: { instance: '/(/' }, component: 'x', severity: 'down' },
      ]),
    ).toThrow(/detection\.rules\.1\.match\.instance: "\/\(\/" is not a valid regular expression/);
    expect(() => compileRules([{ match: { a: '/x/g' }, component: 'x', severity: 'down' }])).toThrow(
      /unsupported regular expression flags "g"/,
    );
  });

  test('mapping: rule, then keepwarm_component / component labels (name or id); severity from the source, the label, the rule', () => {
    const rules = compileRules([{ match: { service: 'api' }, component: 'Product API', severity: 'degraded' }]);
    expect(mapAlert(alert({ service: 'api' }), rules, components)).toEqual({
      componentId: 'c-api',
      severity: 'degraded',
      via: 'rule 0',
    });
    expect(mapAlert(alert({ service: 'api' }, { severityHint: 'down' }), rules, components).severity).toBe('down');
    expect(mapAlert(alert({ service: 'api', keepwarm_severity: 'down' }), rules, components).severity).toBe('down');
    expect(mapAlert(alert({ component: 'showroom cdn' }), rules, components)).toEqual({
      componentId: 'c-cdn',
      severity: 'down',
      via: 'label component',
    });
    expect(mapAlert(alert({ keepwarm_component: 'c-api', component: 'Showroom CDN' }), rules, components).componentId).toBe(
      'c-api',
    );
    expect(mapAlert(alert({ keepwarm_component: 'nope', component: 'Showroom CDN' }), rules, components).componentId).toBe(
      'c-cdn',
    );
    expect(mapAlert(alert({ job: 'x' }), rules, components)).toEqual({
      componentId: null,
      severity: 'down',
      via: null,
      reason: 'no rule matches its labels',
    });
    expect(mapAlert(alert({ component: 'Ghost' }), rules, components).reason).toBe(
      'no rule matches, and label component="Ghost" names no component',
    );
    const dangling = compileRules([{ match: { service: 'api' }, component: 'Deleted thing', severity: 'down' }]);
    expect(mapAlert(alert({ service: 'api' }), dangling, components)).toMatchObject({
      componentId: null,
      reason: 'rule 0 names component "Deleted thing", which does not exist',
    });
  });
});
