import type { Logger } from 'pino';
import { AuthService } from '../auth/auth.service.js';
import { CatalogService } from '../catalog/snapshots.service.js';
import type { Config } from '../config/config.js';
import { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { CreditService } from '../credits/credits.service.js';
import { type ConnectorService, createConnectorServices } from '../crm/connectors/connectors.service.js';
import { IntentEventService } from '../crm/events.service.js';
import { LeadService } from '../crm/leads.service.js';
import type { OutageService } from '../crm/outage/outage.service.js';
import { createOutageService } from '../crm/outage/wiring.js';
import { createEngagementServices, type EngagementServices } from '../crm/sequences/wiring.js';
import type { Database } from '../db/database.js';
import { JobQueue } from '../db/jobs/job-queue.js';
import { DetectionService } from '../detection/detection.service.js';
import { MonitorService } from '../detection/monitors.service.js';
import { DrillService } from '../drills/drills.service.js';
import { FlagService } from '../fallback/flags/flags.service.js';
import { MirrorService, mirrorSettingsFromConfig, mirrorWorkDir } from '../fallback/mirror/mirror.service.js';
import { createMirrorTargets } from '../fallback/mirror/targets.js';
import { ComponentService } from '../incidents/components.service.js';
import { IncidentService } from '../incidents/incidents.service.js';
import { StatusFeed } from '../incidents/statuspage.service.js';
import { OutboxService } from '../messaging/outbox.service.js';
import { createProviderRegistry } from '../messaging/providers/index.js';
import type { ProviderRegistry } from '../messaging/providers/registry.js';
import { TemplateService } from '../messaging/templates.service.js';
import { flagDefinitions } from '../playbook/playbook.js';
import type { PlaybookService } from '../playbook/playbook.service.js';
import { createPlaybookService } from '../playbook/wiring.js';
import { PrivacyService } from '../privacy/privacy.service.js';
import type { ReportService } from '../reports/report.service.js';
import { createReportService } from '../reports/wiring.js';
import { type BroadcastService, createBroadcastService } from '../status/broadcast.service.js';
import type { CadenceService } from '../status/cadence/cadence.service.js';
import { createCadenceServices } from '../status/cadence/wiring.js';
import type { DrafterService } from '../status/drafter/drafter.service.js';
import type { StatusPublisher } from '../status/publish/publisher.js';
import { createStatusSiteServices } from '../status/publish/wiring.js';
import type { StatusSite } from '../status/site/site.service.js';
import type { SubscriberService } from '../status/subscribers/subscribers.service.js';
import { createSubscriberService } from '../status/subscribers/wiring.js';
import { InstallationSecret } from './secret.js';

/** Side effects, passed in: database, clock, logger (providers join here as features land). */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  log: Logger;
  bus?: Bus;
}

export interface Services {
  config: Config;
  db: Database;
  clock: Clock;
  log: Logger;
  bus: Bus;
  jobs: JobQueue;
  auth: AuthService;
  components: ComponentService;
  incidents: IncidentService;
  statusFeed: StatusFeed;
  secret: InstallationSecret;
  templates: TemplateService;
  providers: ProviderRegistry;
  outbox: OutboxService;
  monitors: MonitorService;
  detection: DetectionService;
  cadence: CadenceService;
  drafter: DrafterService;
  subscribers: SubscriberService;
  statusSite: StatusSite;
  statusPublisher: StatusPublisher;
  broadcast: BroadcastService;
  /** CRM leads: list, import/export (crm.importMapping), and the intent events of the SDK. */
  leads: LeadService;
  intentEvents: IntentEventService;
  /** Catalog import and versioned snapshots. */
  catalog: CatalogService;
  /** CRM connectors: the outbound tags webhook and HubSpot (crm.webhook, crm.hubspot). */
  connectors: ConnectorService;
  /** CRM outage engine: tagging, tiers, owner tasks, enrollments, recovery (registers its incident hook). */
  crmOutage: OutageService;
  /** CRM outage sequences (job crm.sequences.run), the SMS/chat conversation engine and signed redirect links. */
  sequences: EngagementServices['sequences'];
  conversations: EngagementServices['conversations'];
  links: EngagementServices['links'];
  /** Kill switches (OFREP, flags.json), evaluated live against open incidents. */
  flags: FlagService;
  /** The fallback mirror: built from the latest catalog snapshot, published to fallback.targets. */
  mirror: MirrorService;
  /** Drills: break an entry point of the demo or a staging showroom, let the playbook run, score it. */
  drills: DrillService;
  /** The playbook in force (config.playbook) and its engine: checklists, deadlines, automatic actions. */
  playbook: PlaybookService;
  /** SLA credits: policies per plan, customer plans, the monthly ledger and its approvals. */
  credits: CreditService;
  /** Retention settings and purge job, and export / erasure of one person's data. */
  privacy: PrivacyService;
  /** Incident reports: generated from the timeline, edited, published as the postmortem; the 72 h deadline jobs. */
  reports: ReportService;
}

/** Wire every service once; web, worker and CLI all use the same graph. */
export function createServices(deps: Deps): Services {
  const bus = deps.bus ?? new Bus();
  const { config, db, clock, log } = deps;
  // Where the playbook came from, and deprecated settings still in use.
  for (const notice of config.notices) notice.startsWith('config:') ? log.warn(notice) : log.info(notice);
  const jobs = new JobQueue({ clock, bus, maxAttempts: config.jobs.maxAttempts });
  const secret = new InstallationSecret({ db, clock, configured: config.secret });
  const templates = new TemplateService({ db, clock, bus });
  const providers = createProviderRegistry(config, log);
  const incidents = new IncidentService({ db, clock, bus });
  const lateMirror: { mirror?: MirrorService } = {};
  const base = {
    config,
    db,
    clock,
    log,
    bus,
    jobs,
    auth: new AuthService({ db, clock, options: config.auth }),
    components: new ComponentService({ db, clock, bus }),
    incidents,
    statusFeed: new StatusFeed({
      db,
      clock,
      bus,
      log,
      options: { pageName: config.status.pageName, publicUrl: config.publicUrl, includeDrills: config.status.includeDrills },
    }),
    secret,
    templates,
    providers,
    outbox: new OutboxService({
      db,
      clock,
      bus,
      jobs,
      templates,
      providers,
      secret,
      log,
      options: {
        publicUrl: config.publicUrl,
        postalAddress: config.messaging.postalAddress,
        quietHoursStart: config.messaging.quietHoursStart,
        quietHoursEnd: config.messaging.quietHoursEnd,
        defaultTimezone: config.messaging.defaultTimezone,
        variables: config.messaging.variables,
        emailPerSecond: config.messaging.emailPerSecond,
        smsPerSenderPerSecond: config.twilio.perSenderPerSecond,
        sendTimeoutMs: config.smtp.timeoutSeconds * 1000,
      },
    }),
    monitors: new MonitorService({
      db,
      clock,
      bus,
      defaults: {
        failuresToDown: config.playbook.detection.failuresToDown,
        successesToUp: config.playbook.detection.successesToUp,
      },
    }),
    leads: new LeadService({ db, clock, importMapping: config.crm.importMapping }),
    intentEvents: new IntentEventService({ db, clock }),
    catalog: new CatalogService({
      db,
      clock,
      // A new snapshot rebuilds the mirror (the service is wired below).
      onSnapshot: (trx, id) => lateMirror.mirror?.onSnapshot(trx, id) ?? Promise.resolve(),
    }),
    credits: new CreditService({ db, clock, jobs, log: log.child({ role: 'credits' }) }),
    detection: new DetectionService({
      db,
      clock,
      bus,
      jobs,
      incidents,
      log: log.child({ role: 'detection' }),
      options: {
        // Declaration and confirmation come from the playbook; the region is this process's.
        declare: config.playbook.detection.declare,
        confirmWithinMs: config.playbook.detection.confirmWithin,
        drillConfirmWithinMs: config.playbook.detection.drillConfirmWithin,
        region: config.detection.region,
        failuresToDown: config.playbook.detection.failuresToDown,
        successesToUp: config.playbook.detection.successesToUp,
      },
    }),
  };
  // Events stored before a declaration but inside the incident's window are attributed to it.
  base.incidents.onChange(base.intentEvents.onIncidentChange);
  // Update cadence and drafter (registers the cadence's incident change hook).
  // Status subscribers (registers the fan-out's incident change hook).
  const withSubscribers = {
    ...base,
    subscribers: createSubscriberService(base),
    ...createConnectorServices(base),
    crmOutage: createOutageService(base),
    ...createEngagementServices(base),
    // The built-in kill switches are the playbook's flags section.
    flags: new FlagService({ db, clock, bus, builtIn: flagDefinitions(config.playbook) }),
    privacy: new PrivacyService({
      db,
      clock,
      log: log.child({ feature: 'privacy' }),
      secret,
      jobs,
      retention: config.privacy.retention,
    }),
  };
  const mirror = new MirrorService({
    db,
    clock,
    log: log.child({ role: 'mirror' }),
    jobs,
    catalog: base.catalog,
    flags: withSubscribers.flags,
    settings: mirrorSettingsFromConfig(config),
    targets: createMirrorTargets(config.fallback),
    workDir: mirrorWorkDir(config),
    autoPublish: config.fallback.autoPublish,
  });
  lateMirror.mirror = mirror;
  // The status site (live) and its publishing to static targets; the banner in it promises the
  // cadence's next update (the cadence is wired just below).
  const later: { cadence?: CadenceService } = {};
  const drills = new DrillService({
    db,
    clock,
    log: log.child({ role: 'drill' }),
    jobs,
    incidents,
    cadence: () => {
      if (!later.cadence) throw new Error('the cadence service is wired after the drills');
      return later.cadence;
    },
    config,
  });
  // Detection marks the incident of a drilled component as a drill (and uses drill timings).
  base.detection.setDrillLookup((ex, ids) => drills.activeFor(ex, ids));
  const withSite = {
    ...withSubscribers,
    mirror,
    drills,
    ...createStatusSiteServices(withSubscribers, () => later.cadence?.nextUpdates() ?? Promise.resolve(new Map())),
  };
  const cadenceServices = createCadenceServices(withSite);
  later.cadence = cadenceServices.cadence;
  const all = { ...withSite, ...cadenceServices };
  // Publish once, everywhere: the consistency check, and Slack/social on every public update.
  const broadcast = createBroadcastService(all);
  // The playbook engine last: it acts through the others (updates, flags, CRM, outbox).
  const withBroadcast = { ...all, broadcast, playbook: createPlaybookService(all) };
  // Incident reports last: they publish through publish-everywhere and read the cadence's rules.
  return { ...withBroadcast, reports: createReportService(withBroadcast) };
}
