import type { ComponentKind, OutageChannel } from '../../incidents/incident.js';

/**
 * Kill switches as pure rules. A flag has a default value; rules give another value while an open
 * (non-drill) incident affects a matching component; a person may pin a value (override) until
 * they clear it. Evaluation results use the OpenFeature reasons, so OFREP serves them as they are.
 */
export type FlagValue = boolean | string | number | Record<string, unknown>;

export type FlagCondition = { channel: OutageChannel[] } | { component: string } | { kind: ComponentKind[] };

export interface FlagRule {
  when: FlagCondition;
  value: FlagValue;
}

export interface FlagOverride {
  value: FlagValue;
  reason: string;
  by: string;
  at: number;
}

export interface FlagDefinition {
  key: string;
  description: string;
  defaultValue: FlagValue;
  rules: FlagRule[];
  enabled: boolean;
  override: FlagOverride | null;
}

/** What an open incident contributes to the rules: its affected components. */
export interface OpenIncidentFacts {
  incidentId: string;
  components: Array<{ name: string; kind: ComponentKind; channel: OutageChannel }>;
}

export type FlagReason = 'STATIC' | 'TARGETING_MATCH' | 'DEFAULT' | 'DISABLED';

export interface FlagEvaluation {
  key: string;
  value: FlagValue;
  reason: FlagReason;
  variant: string;
  metadata: Record<string, string | number | boolean>;
}

/** Built in, so a fresh installation has the usual switches; a stored flag with the same key wins. */
export const DEFAULT_FLAGS: readonly FlagDefinition[] = [
  {
    key: 'showroom.configurator',
    description: 'The interactive product configurator (needs the showroom API and third-party widgets).',
    defaultValue: true,
    rules: [{ when: { channel: ['API', 'Third-party'] }, value: false }],
    enabled: true,
    override: null,
  },
  {
    key: 'showroom.checkout',
    description: 'Online checkout; off while the API or sign-in is down (buyers use the offline order form).',
    defaultValue: true,
    rules: [{ when: { channel: ['API', 'Auth'] }, value: false }],
    enabled: true,
    override: null,
  },
  {
    key: 'showroom.fallback_banner',
    description: 'Show the outage banner and links to the fallback showroom.',
    defaultValue: false,
    rules: [{ when: { channel: ['CDN', 'API', 'Auth', 'Third-party'] }, value: true }],
    enabled: true,
    override: null,
  },
];

export function conditionMatches(when: FlagCondition, incidents: readonly OpenIncidentFacts[]): string | null {
  for (const incident of incidents) {
    for (const c of incident.components) {
      if ('channel' in when && when.channel.includes(c.channel)) return incident.incidentId;
      if ('component' in when && when.component === c.name) return incident.incidentId;
      if ('kind' in when && when.kind.includes(c.kind)) return incident.incidentId;
    }
  }
  return null;
}

export function evaluateFlag(flag: FlagDefinition, incidents: readonly OpenIncidentFacts[]): FlagEvaluation {
  const base = { key: flag.key, metadata: { description: flag.description } as FlagEvaluation['metadata'] };
  if (!flag.enabled) return { ...base, value: flag.defaultValue, reason: 'DISABLED', variant: 'default' };
  if (flag.override)
    return {
      ...base,
      value: flag.override.value,
      reason: 'STATIC',
      variant: 'override',
      metadata: { ...base.metadata, overrideReason: flag.override.reason, overrideBy: flag.override.by },
    };
  for (const [i, rule] of flag.rules.entries()) {
    const incidentId = conditionMatches(rule.when, incidents);
    if (incidentId)
      return {
        ...base,
        value: rule.value,
        reason: 'TARGETING_MATCH',
        variant: `rule-${i + 1}`,
        metadata: { ...base.metadata, incidentId },
      };
  }
  return { ...base, value: flag.defaultValue, reason: 'DEFAULT', variant: 'default' };
}

/** Stored flags over the built-in ones, sorted by key. */
export function mergeDefinitions(
  stored: readonly FlagDefinition[],
  builtIn: readonly FlagDefinition[] = DEFAULT_FLAGS,
): FlagDefinition[] {
  const byKey = new Map(builtIn.map((f) => [f.key, f]));
  for (const f of stored) byKey.set(f.key, f);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The static flags.json published beside the mirror: the same evaluations OFREP serves, plus when. */
export function renderFlagsJson(evaluations: readonly FlagEvaluation[], generatedAt: string): string {
  return `${JSON.stringify({ generated_at: generatedAt, flags: evaluations }, null, 2)}\n`;
}
