import { ConfigError } from '../../config/config.js';
import type { Component } from '../../incidents/components.repo.js';
import type { NormalizedAlert, Severity } from './alert.js';

/** A rule as configured in detection.rules. */
export interface LabelRule {
  match: Record<string, string>;
  component: string;
  severity: Severity;
}

export interface CompiledRule {
  /** Position in detection.rules (0-based), for messages and signal details. */
  index: number;
  matchers: Array<{ label: string; test: (value: string) => boolean }>;
  component: string;
  severity: Severity;
}

/** Labels that name a component directly, when no rule matches (first present wins). */
export const COMPONENT_LABELS = ['keepwarm_component', 'component'] as const;
/** A label that states the severity (down|degraded) when the source does not. */
export const SEVERITY_LABEL = 'keepwarm_severity';

/**
 * A rule value: exact text, or "/regex/flags" used as written (anchor it with ^…$ to match the
 * whole value). Flags i, m, s, u; g and y make no sense for a test and are refused.
 */
export function compileMatcher(value: string): (candidate: string) => boolean {
  const literal = /^\/(.+)\/([a-z]*)$/s.exec(value);
  if (!literal) return (candidate) => candidate === value;
  const [, pattern = '', flags = ''] = literal;
  if (/[^imsu]/.test(flags)) throw new Error(`unsupported regular expression flags "${flags}" (use i, m, s, u)`);
  const re = new RegExp(pattern, flags);
  return (candidate) => re.test(candidate);
}

/** Compile detection.rules once; a bad regular expression is a configuration error naming the rule. */
export function compileRules(rules: readonly LabelRule[]): CompiledRule[] {
  const problems: string[] = [];
  const compiled = rules.map((rule, index) => {
    const matchers: CompiledRule['matchers'] = [];
    for (const [label, value] of Object.entries(rule.match)) {
      try {
        matchers.push({ label, test: compileMatcher(value) });
      } catch (err) {
        problems.push(
          `detection.rules.${index}.match.${label}: ${JSON.stringify(value)} is not a valid regular expression: ${(err as Error).message}`,
        );
      }
    }
    return { index, matchers, component: rule.component, severity: rule.severity };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return compiled;
}

/** The first rule whose every matcher accepts the alert's labels (a rule with no matchers matches all). */
export function findRule(rules: readonly CompiledRule[], labels: Readonly<Record<string, string>>): CompiledRule | undefined {
  return rules.find((rule) =>
    rule.matchers.every((m) => {
      const value = Object.hasOwn(labels, m.label) ? labels[m.label] : undefined;
      return value !== undefined && m.test(value);
    }),
  );
}

/** Components by id and by name (exact first, then ignoring case). */
export class ComponentIndex {
  readonly #byId = new Map<string, Component>();
  readonly #byName = new Map<string, Component>();
  readonly #byLowerName = new Map<string, Component>();

  constructor(components: readonly Component[]) {
    for (const c of components) {
      this.#byId.set(c.id, c);
      this.#byName.set(c.name, c);
      if (!this.#byLowerName.has(c.name.toLowerCase())) this.#byLowerName.set(c.name.toLowerCase(), c);
    }
  }

  find(ref: string): Component | undefined {
    const key = ref.trim();
    return this.#byId.get(key) ?? this.#byName.get(key) ?? this.#byLowerName.get(key.toLowerCase());
  }
}

export interface AlertMapping {
  componentId: string | null;
  severity: Severity;
  /** How it was mapped: "rule 2", "label keepwarm_component", or null when unmapped. */
  via: string | null;
  /** Why it is unmapped (only then). */
  reason?: string;
}

/**
 * Which component an alert is about, and how bad: the first matching rule, else a
 * keepwarm_component / component label naming a component. Severity: what the source says, else
 * a keepwarm_severity label, else the rule's, else down.
 */
export function mapAlert(alert: NormalizedAlert, rules: readonly CompiledRule[], components: ComponentIndex): AlertMapping {
  const labelSeverity = alert.labels[SEVERITY_LABEL]?.trim().toLowerCase();
  const stated: Severity | undefined =
    alert.severityHint ?? (labelSeverity === 'down' || labelSeverity === 'degraded' ? labelSeverity : undefined);

  const rule = findRule(rules, alert.labels);
  if (rule) {
    const component = components.find(rule.component);
    const severity = stated ?? rule.severity;
    if (component) return { componentId: component.id, severity, via: `rule ${rule.index}` };
    return {
      componentId: null,
      severity,
      via: null,
      reason: `rule ${rule.index} names component ${JSON.stringify(rule.component)}, which does not exist`,
    };
  }
  let reason = 'no rule matches its labels';
  for (const label of COMPONENT_LABELS) {
    const ref = Object.hasOwn(alert.labels, label) ? alert.labels[label] : undefined;
    if (!ref?.trim()) continue;
    const component = components.find(ref);
    if (component) return { componentId: component.id, severity: stated ?? 'down', via: `label ${label}` };
    if (reason === 'no rule matches its labels')
      reason = `no rule matches, and label ${label}=${JSON.stringify(ref)} names no component`;
  }
  return { componentId: null, severity: stated ?? 'down', via: null, reason };
}
