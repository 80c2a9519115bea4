import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { listComponents } from '../../incidents/components.repo.js';
import type { DetectionService, SignalInput } from '../detection.service.js';
import type { IntakeSource, Normalized } from './alert.js';
import { type CompiledRule, ComponentIndex, mapAlert } from './rules.js';

/** What a webhook sender is told: counts, and which alerts matched no component. */
export interface IntakeReceipt {
  received: number;
  firing: number;
  resolved: number;
  /** Signals whose state or severity changed (0 for a repeated notification). */
  changed: number;
  unmapped: Array<{ fingerprint: string; summary: string; reason: string }>;
  ignored: string[];
}

/**
 * Alerts from intake become signals: each is mapped to a component by the rules (unmapped ones
 * are still recorded, without a component, so operators see them) and recorded through detection,
 * which deduplicates by (source, fingerprint) and re-evaluates the components touched.
 */
export class IntakeService {
  readonly #db: Database;
  readonly #detection: DetectionService;
  readonly #log: Logger;
  readonly #rules: readonly CompiledRule[];

  constructor(deps: { db: Database; detection: DetectionService; log: Logger; rules: readonly CompiledRule[] }) {
    this.#db = deps.db;
    this.#detection = deps.detection;
    this.#log = deps.log;
    this.#rules = deps.rules;
  }

  /** Map alerts to components and severities (no side effects), as the signals to record. */
  async toSignals(source: IntakeSource, normalized: Normalized): Promise<{ signals: SignalInput[]; receipt: IntakeReceipt }> {
    const components = new ComponentIndex(await listComponents(this.#db.kysely));
    const receipt: IntakeReceipt = { received: 0, firing: 0, resolved: 0, changed: 0, unmapped: [], ignored: normalized.ignored };
    const signals: SignalInput[] = [];
    for (const alert of normalized.alerts) {
      const mapping = mapAlert(alert, this.#rules, components);
      receipt.received++;
      if (alert.state === 'firing') receipt.firing++;
      else receipt.resolved++;
      if (!mapping.componentId) {
        receipt.unmapped.push({ fingerprint: alert.fingerprint, summary: alert.summary, reason: mapping.reason ?? 'unmapped' });
      }
      signals.push({
        source,
        fingerprint: alert.fingerprint,
        componentId: mapping.componentId,
        region: alert.region ?? null,
        state: alert.state,
        severity: mapping.severity,
        summary: alert.summary,
        details: {
          labels: alert.labels,
          mapped_by: mapping.via,
          ...(mapping.reason && { unmapped_reason: mapping.reason }),
          ...(alert.startsAt && { starts_at: alert.startsAt }),
          ...(alert.url && { url: alert.url }),
          ...alert.details,
        },
      });
    }
    return { signals, receipt };
  }

  async receive(source: IntakeSource, normalized: Normalized): Promise<IntakeReceipt> {
    const { signals, receipt } = await this.toSignals(source, normalized);
    if (signals.length > 0) {
      const { changed } = await this.#detection.recordSignals(signals);
      receipt.changed = changed;
    }
    if (receipt.unmapped.length > 0) {
      this.#log.warn(
        { source, unmapped: receipt.unmapped.map((u) => u.fingerprint).slice(0, 20), count: receipt.unmapped.length },
        'alerts matched no component',
      );
    }
    return receipt;
  }
}
