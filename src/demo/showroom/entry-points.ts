import { AppError } from '../../core/errors.js';
/**
 * The demo showroom's four entry points: what a buyer's browser loads from the CDN, the product
 * and price API the pages call, the sign-in provider and the third-party configurator widget.
 * Each has its own path prefix on the showroom origin, a health path a monitor probes, and a
 * component on the status page. A drill breaks one of them (`keepwarm drill --scenario …`).
 */
import { type DrillScenario, SCENARIOS } from '../../drills/scorecard.js';
import type { ComponentKind } from '../../incidents/incident.js';

/** The drill scenarios are the showroom's entry points. */
export { SCENARIOS };
export type Scenario = DrillScenario;

/**
 * How a broken entry point fails, for a buyer's browser and a probe alike: `unavailable` answers
 * 503, `reset` drops the connection without an answer, `timeout` accepts the request and never
 * answers (until the entry point is restored).
 */
export const FAILURE_MODES = ['unavailable', 'reset', 'timeout'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export interface EntryPoint {
  scenario: Scenario;
  /** The component on the status page (and the one the demo's monitor reports on). */
  component: string;
  kind: ComponentKind;
  group: string;
  description: string;
  /** Every path under this prefix belongs to the entry point and fails with it. */
  prefix: string;
  /** Answers `{"status":"ok"}` while the entry point works. */
  healthPath: string;
  /** How `breakEntry(scenario)` fails when no mode is given: what such an outage usually looks like. */
  defaultFailure: FailureMode;
}

export const ENTRY_POINTS: Readonly<Record<Scenario, EntryPoint>> = {
  cdn: {
    scenario: 'cdn',
    component: 'Showroom CDN',
    kind: 'cdn',
    group: 'Digital showroom',
    description: 'Edge delivery of showroom pages and media',
    prefix: '/assets/',
    healthPath: '/assets/health',
    defaultFailure: 'unavailable',
  },
  api: {
    scenario: 'api',
    component: 'Product API',
    kind: 'api',
    group: 'Digital showroom',
    description: 'Catalog, pricing and availability',
    prefix: '/api/',
    healthPath: '/api/health',
    defaultFailure: 'unavailable',
  },
  auth: {
    scenario: 'auth',
    component: 'Sign-in (SSO)',
    kind: 'auth',
    group: 'Accounts',
    description: 'Buyer sign-in and account pages',
    prefix: '/auth/',
    healthPath: '/auth/health',
    defaultFailure: 'reset',
  },
  'third-party': {
    scenario: 'third-party',
    component: '3D configurator',
    kind: 'third_party',
    group: 'Digital showroom',
    description: 'Embedded product configurator widget',
    prefix: '/widgets/configurator/',
    healthPath: '/widgets/configurator/health',
    defaultFailure: 'timeout',
  },
};

/** The showroom's server-rendered pages: not an entry point a drill breaks, but monitored too. */
export const ORIGIN_ENTRY = {
  component: 'Showroom origin',
  kind: 'origin' as ComponentKind,
  group: 'Digital showroom',
  description: 'Server-rendered product pages',
  healthPath: '/healthz',
};

/** The status page component of each scenario. */
export const SHOWROOM_COMPONENTS: Readonly<Record<Scenario, string>> = {
  cdn: ENTRY_POINTS.cdn.component,
  api: ENTRY_POINTS.api.component,
  auth: ENTRY_POINTS.auth.component,
  'third-party': ENTRY_POINTS['third-party'].component,
};

/** The entry point a request path belongs to (null: the origin's own pages, or the control paths). */
export function entryOf(path: string): Scenario | null {
  for (const scenario of SCENARIOS) {
    const prefix = ENTRY_POINTS[scenario].prefix;
    if (path.startsWith(prefix) || path === prefix.slice(0, -1)) return scenario;
  }
  return null;
}

/** A scenario name from input (CLI, HTTP): `third_party` is taken for `third-party`. */
export function parseScenario(value: unknown, field = 'scenario'): Scenario {
  const text = typeof value === 'string' ? value.trim().toLowerCase().replace('_', '-') : '';
  if ((SCENARIOS as readonly string[]).includes(text)) return text as Scenario;
  const message = `expected one of ${SCENARIOS.join(', ')}`;
  throw new AppError(400, 'validation_failed', `${field}: ${message}, not ${JSON.stringify(value ?? null)}.`, [
    { field, message },
  ]);
}

export function parseFailureMode(value: unknown, field = 'mode'): FailureMode {
  if (typeof value === 'string' && (FAILURE_MODES as readonly string[]).includes(value)) return value as FailureMode;
  const message = `expected one of ${FAILURE_MODES.join(', ')}`;
  throw new AppError(400, 'validation_failed', `${field}: ${message}, not ${JSON.stringify(value ?? null)}.`, [
    { field, message },
  ]);
}
