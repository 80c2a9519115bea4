import type { Services } from '../app/services.js';
import { HOUR } from '../core/clock.js';
import { ReportService } from './report.service.js';

/** The report's deadline: the playbook's "report" checklist item when it runs from resolution, else 72 h. */
export const DEFAULT_REPORT_DEADLINE_MS = 72 * HOUR;
/** The reminder goes a day before the deadline (at 48 h by default). */
export const REPORT_REMIND_BEFORE_MS = 24 * HOUR;

/** Build the report service and register its incident change hook (deadline jobs, publication). */
export function createReportService(s: Omit<Services, 'reports'>): ReportService {
  const { config } = s;
  const item = config.playbook.checklist.find((c) => c.id === 'report' && c.from === 'resolved' && c.due !== undefined);
  const deadlineMs = item?.due ?? DEFAULT_REPORT_DEADLINE_MS;
  const reports = new ReportService({
    db: s.db,
    clock: s.clock,
    bus: s.bus,
    jobs: s.jobs,
    outbox: s.outbox,
    log: s.log.child({ feature: 'reports' }),
    rules: () => s.cadence.rules,
    publishUpdate: (actor, id, input) => s.broadcast.publish(actor, id, input),
    options: {
      publicUrl: config.publicUrl,
      deadlineMs,
      remindBeforeMs: Math.min(REPORT_REMIND_BEFORE_MS, deadlineMs / 3),
      backupRole: config.playbook.cadence.backupRole,
    },
  });
  s.incidents.onChange(reports.onIncidentChange);
  return reports;
}
