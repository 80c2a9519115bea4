import type { IntakeAdapter } from '../adapter.js';
import type { IntakeSource } from '../alert.js';
import { alertmanagerAdapter } from './alertmanager.js';
import { genericAdapter } from './generic.js';
import { grafanaAdapter } from './grafana.js';
import { pagerDutyAdapter } from './pagerduty.js';
import { statuspageAdapter } from './statuspage.js';
import { uptimeKumaAdapter } from './uptime-kuma.js';

/** Every alert source, by its URL segment. */
export const ADAPTERS: ReadonlyMap<IntakeSource, IntakeAdapter> = new Map(
  [alertmanagerAdapter, grafanaAdapter, uptimeKumaAdapter, pagerDutyAdapter, statuspageAdapter, genericAdapter].map((a) => [
    a.source,
    a,
  ]),
);

export function adapterFor(source: IntakeSource): IntakeAdapter {
  const adapter = ADAPTERS.get(source);
  if (!adapter) throw new Error(`no intake adapter for ${source}`);
  return adapter;
}
