/**
 * A drill's scorecard, from the facts of its incident: how long each milestone took from the
 * moment the entry point broke, what was sent on which channel and to which tier, how the update
 * cadence held and how much of the checklist was done. Pure: facts in, scorecard out.
 */

export const SCENARIOS = ['cdn', 'api', 'auth', 'third-party'] as const;
export type DrillScenario = (typeof SCENARIOS)[number];

export const MILESTONES = ['detect', 'declare', 'acknowledge', 'fallback', 'tier_a_task'] as const;
export type Milestone = (typeof MILESTONES)[number];

export const MILESTONE_LABELS: Record<Milestone, string> = {
  detect: 'Time to detect',
  declare: 'Time to declare',
  acknowledge: 'Time to first public acknowledgement',
  fallback: 'Time to fallback live',
  tier_a_task: 'Time to first Tier A task',
};

/** What a prepared team aims at, from the break (seconds): a milestone is on target at or under it. */
export const MILESTONE_TARGETS: Record<Milestone, number> = {
  detect: 5 * 60,
  declare: 10 * 60,
  acknowledge: 15 * 60,
  fallback: 30 * 60,
  tier_a_task: 20 * 60,
};

export interface DrillFacts {
  scenario: DrillScenario;
  brokenAt: number;
  restoredAt: number | null;
  /** Milestone times (epoch ms); null when it never happened. */
  at: Record<Milestone, number | null>;
  /** Tier A leads the drill found (0: no Tier A task expected). */
  tierALeads: number;
  messages: Array<{ channel: string; tier: string | null; count: number }>;
  cadence: { ackSeconds: number | null; longestGapSeconds: number | null; lateUpdates: number; updates: number };
  checklist: { total: number; done: number; onTime: number };
}

export interface Scorecard {
  scenario: DrillScenario;
  milestones: Array<{ key: Milestone; label: string; seconds: number | null; target_seconds: number; on_target: boolean | null }>;
  messages: { total: number; by_channel: Record<string, number>; by_tier: Record<string, number> };
  cadence: {
    ack_seconds: number | null;
    longest_gap_seconds: number | null;
    late_updates: number;
    updates: number;
    adherence: number | null;
  };
  checklist: { total: number; done: number; on_time: number; completion: number | null };
  /** 0–100: milestones on target, cadence adherence and checklist completion, equally weighted. */
  score: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function computeScorecard(f: DrillFacts): Scorecard {
  const milestones = MILESTONES.map((key) => {
    const at = f.at[key];
    const seconds = at === null ? null : round1(Math.max(0, at - f.brokenAt) / 1000);
    const expected = key !== 'tier_a_task' || f.tierALeads > 0;
    return {
      key,
      label: MILESTONE_LABELS[key],
      seconds,
      target_seconds: MILESTONE_TARGETS[key],
      on_target: seconds === null ? (expected ? false : null) : seconds <= MILESTONE_TARGETS[key],
    };
  });
  const byChannel: Record<string, number> = {};
  const byTier: Record<string, number> = {};
  let total = 0;
  for (const m of f.messages) {
    byChannel[m.channel] = (byChannel[m.channel] ?? 0) + m.count;
    const tier = m.tier ?? 'none';
    byTier[tier] = (byTier[tier] ?? 0) + m.count;
    total += m.count;
  }
  const adherence =
    f.cadence.updates === 0
      ? f.cadence.ackSeconds === null
        ? 0
        : null
      : round1((1 - f.cadence.lateUpdates / Math.max(1, f.cadence.updates)) * 100);
  const completion = f.checklist.total === 0 ? null : round1((f.checklist.done / f.checklist.total) * 100);
  const judged = milestones.filter((m) => m.on_target !== null);
  const parts = [
    judged.length === 0 ? null : (judged.filter((m) => m.on_target).length / judged.length) * 100,
    adherence,
    completion,
  ].filter((p): p is number => p !== null);
  return {
    scenario: f.scenario,
    milestones,
    messages: { total, by_channel: byChannel, by_tier: byTier },
    cadence: {
      ack_seconds: f.cadence.ackSeconds,
      longest_gap_seconds: f.cadence.longestGapSeconds,
      late_updates: f.cadence.lateUpdates,
      updates: f.cadence.updates,
      adherence,
    },
    checklist: { total: f.checklist.total, done: f.checklist.done, on_time: f.checklist.onTime, completion },
    score: parts.length === 0 ? 0 : Math.round(parts.reduce((a, b) => a + b, 0) / parts.length),
  };
}

const dur = (s: number | null) => {
  if (s === null) return 'not reached';
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
};

/** The scorecard as lines for a terminal. */
export function formatScorecard(
  card: Scorecard,
  meta: { id: string; incidentId: string | null; state: string; error: string | null },
): string[] {
  const lines = [
    `Drill scorecard: ${card.scenario} (${meta.state}), drill ${meta.id}${meta.incidentId ? `, incident ${meta.incidentId}` : ''}`,
    '',
    ...card.milestones.map(
      (m) =>
        `  ${m.label.padEnd(40)} ${dur(m.seconds).padStart(12)}   ${m.on_target === null ? 'n/a' : m.on_target ? 'on target' : 'MISSED'} (target ${dur(m.target_seconds)})`,
    ),
    '',
    `  Messages: ${card.messages.total}${
      Object.keys(card.messages.by_channel).length
        ? ` (${Object.entries(card.messages.by_channel)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')})`
        : ''
    }`,
    `    by tier: ${
      Object.keys(card.messages.by_tier).length
        ? Object.entries(card.messages.by_tier)
            .map(([t, n]) => `${t === 'none' ? 'public/no tier' : `Tier ${t}`} ${n}`)
            .join(', ')
        : 'none'
    }`,
    `  Cadence: ${card.cadence.updates} public updates, longest gap ${dur(card.cadence.longest_gap_seconds)}, ${card.cadence.late_updates} late${card.cadence.adherence === null ? '' : `, adherence ${card.cadence.adherence}%`}`,
    `  Checklist: ${card.checklist.done} of ${card.checklist.total} done (${card.checklist.on_time} on time)${card.checklist.completion === null ? '' : `, ${card.checklist.completion}%`}`,
    '',
    `  Score: ${card.score}/100`,
  ];
  if (meta.error) lines.push('', `  Note: ${meta.error}`);
  return lines;
}
