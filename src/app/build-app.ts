import { createServer } from 'node:http';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { registerAuditRoutes } from '../audit/audit.routes.js';
import { registerAuthRoutes } from '../auth/auth.routes.js';
import { registerCatalogApiRoutes } from '../catalog/api/catalog.routes.js';
import { CatalogIndexCache } from '../catalog/api/catalog-http.js';
import { registerCatalogRoutes } from '../catalog/snapshots.routes.js';
import { renderDocument } from '../console/html.js';
import { ErrorPage } from '../console/layout.js';
import { registerCreditRoutes } from '../credits/credits.routes.js';
import { registerConnectorRoutes } from '../crm/connectors/connectors.routes.js';
import { registerCrmConsole } from '../crm/console/crm.console.js';
import { registerConversationRoutes } from '../crm/conversations/conversations.routes.js';
import { previewEventsKey, registerEventRoutes } from '../crm/events.routes.js';
import { registerLeadRoutes } from '../crm/leads.routes.js';
import { registerLinkRoutes } from '../crm/links.routes.js';
import { registerTaskRoutes } from '../crm/outage/tasks.routes.js';
import { registerOwnerRoutes } from '../crm/owners.routes.js';
import { registerJobRoutes } from '../db/jobs/jobs.routes.js';
import { registerBeaconRoutes } from '../detection/beacons/beacons.routes.js';
import { registerDetectionConsole } from '../detection/detection.console.js';
import { registerDetectionRoutes } from '../detection/detection.routes.js';
import { registerIntakeRoutes } from '../detection/intake/intake.routes.js';
import { registerMonitorRoutes } from '../detection/monitors.routes.js';
import { registerDrillRoutes } from '../drills/drills.routes.js';
import { registerFlagRoutes } from '../fallback/flags/flags.routes.js';
import { registerMirrorRoutes } from '../fallback/mirror/mirror.routes.js';
import { registerOrderRoutes } from '../fallback/orders/orders.routes.js';
import { registerComponentConsole } from '../incidents/components.console.js';
import { registerComponentRoutes } from '../incidents/components.routes.js';
import { registerIncidentConsole } from '../incidents/incidents.console.js';
import { registerIncidentRoutes } from '../incidents/incidents.routes.js';
import { StatusDocumentServer } from '../incidents/statuspage.routes.js';
import { registerInboundRoutes } from '../messaging/inbound/inbound.routes.js';
import { registerMessageConsole } from '../messaging/messages.console.js';
import { registerMessageRoutes } from '../messaging/messages.routes.js';
import { registerTemplateConsole } from '../messaging/templates.console.js';
import { registerTemplateRoutes } from '../messaging/templates.routes.js';
import { registerPlaybookRoutes } from '../playbook/playbook.routes.js';
import { registerPrivacyRoutes } from '../privacy/privacy.routes.js';
import { registerReportConsole } from '../reports/report.console.js';
import { registerReportRoutes } from '../reports/report.routes.js';
import { BannerServer } from '../status/banner.routes.js';
import { registerBannerPreview } from '../status/banner-preview.js';
import { registerBroadcastRoutes } from '../status/broadcast.routes.js';
import { registerCadenceRoutes } from '../status/cadence/cadence.routes.js';
import { registerDrafterRoutes } from '../status/drafter/drafter.routes.js';
import { registerPublishRoutes } from '../status/publish/publish.routes.js';
import { bannerOptionsFromConfig } from '../status/site/banner-json.js';
import { registerStatusSiteRoutes, tryServeStatusSite } from '../status/site/site.routes.js';
import { registerSubscriberConsole, registerSubscriberRoutes } from '../status/subscribers/subscribers.routes.js';
import { Metrics } from './metrics.js';
import { OpenApiRegistry } from './openapi.js';
import { BODY_LIMIT, registerErrorHandling } from './plugins/errors.js';
import { Router } from './router.js';
import { createServices, type Deps, type Services } from './services.js';
import { registerSystemRoutes } from './system.routes.js';

/** How long an idle keep-alive connection stays open (Fastify's own default). */
export const KEEP_ALIVE_MS = 72_000;

export interface KeepwarmApp {
  app: FastifyInstance;
  services: Services;
  metrics: Metrics;
  openapi: OpenApiRegistry;
  /** Every route Fastify registered (method and URL), to check each is documented. */
  routes: Array<{ method: string; url: string }>;
}

/** The whole HTTP surface, ready for inject() or listen(). Never listens by itself. */
export async function buildApp(deps: Deps & { services?: Services; metrics?: Metrics }): Promise<KeepwarmApp> {
  const services = deps.services ?? createServices(deps);
  // Resolve the signing secret before any transaction needs it (SQLite has one connection).
  await services.secret.get();
  const { config } = services;
  const metrics = deps.metrics ?? new Metrics();
  const statusDocuments = new StatusDocumentServer(services.statusFeed, metrics);
  const banner = new BannerServer(services.statusFeed, bannerOptionsFromConfig(config), {
    nextUpdates: () => services.cadence.nextUpdates(),
    log: services.log,
  });
  const app = Fastify({
    // The public status documents are answered ahead of the framework (the hot path of a surge).
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (
          !statusDocuments.tryServe(req, res) &&
          !banner.tryServe(req, res) &&
          !tryServeStatusSite(services.statusSite, req, res)
        )
          handler(req, res);
      });
      // Fastify sets its keep-alive timeout only on servers it creates. Node's own 5 s lets an idle
      // connection be closed just as a client (a CLI polling a drill, a proxy) sends on it: reset.
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      return server;
    },
    loggerInstance: services.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    // Malformed URLs (bad percent-encoding) never reach a route: answer in the usual error shape.
    frameworkErrors: (err, req, res) => {
      (res as unknown as FastifyReply)
        .code(400)
        .type('application/json; charset=utf-8')
        .send({ error: { code: 'bad_url', message: `The URL ${JSON.stringify(req.url)} cannot be decoded: ${err.message}` } });
    },
  });
  const openapi = new OpenApiRegistry();
  const router = new Router(app, services.auth, openapi);
  const routes: KeepwarmApp['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  registerErrorHandling(app, (req, status, message) =>
    renderDocument(ErrorPage({ status, message, actor: req.keepwarmActor ?? null })),
  );
  // The public status documents live outside the instrumented scope: no hooks on the hot path.
  statusDocuments.register(router);
  registerStatusSiteRoutes(router, services.statusSite);
  registerFlagRoutes(router, services.flags);
  banner.register(router);

  await app.register(async (scope) => {
    await scope.register(cookie);
    await scope.register(formbody, { bodyLimit: BODY_LIMIT });
    metrics.instrument(scope);
    scope.addHook('onResponse', (req, reply, done) => {
      // Errors and changes are worth a log line; reads and the stream of browser beacons are not.
      const routine = req.method === 'GET' || req.method === 'HEAD' || req.url.startsWith('/api/v1/beacons');
      if (reply.statusCode >= 500 || !routine) {
        req.log.info(
          { method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
          'request',
        );
      }
      done();
    });
    const scoped = new Router(scope, services.auth, openapi);
    registerSystemRoutes(scoped, services, metrics, openapi);
    registerAuthRoutes(scoped, services.auth, config.publicUrl, config.auth.sessionHours);
    registerComponentRoutes(scoped, services.components);
    registerIncidentRoutes(scoped, services.incidents, (actor, id, input) => services.broadcast.publish(actor, id, input));
    registerBroadcastRoutes(scoped, services.broadcast);
    registerBannerPreview(scoped, config.status.pageName, previewEventsKey(config));
    registerAuditRoutes(scoped, services.db);
    registerJobRoutes(scoped, services.db, services.clock);
    registerComponentConsole(scoped, services.components);
    registerIncidentConsole(scoped, services);
    registerMessageRoutes(scoped, services);
    registerMessageConsole(scoped, services);
    registerTemplateRoutes(scoped, services);
    registerTemplateConsole(scoped, services);
    registerInboundRoutes(scoped, services, { conversation: services.conversations });
    registerMonitorRoutes(scoped, services.monitors);
    registerDetectionRoutes(scoped, services);
    registerIntakeRoutes(scoped, services);
    registerBeaconRoutes(scoped, services);
    registerDetectionConsole(scoped, services);
    registerSubscriberRoutes(scoped, services);
    registerSubscriberConsole(scoped, services);
    registerCadenceRoutes(scoped, services.cadence);
    registerPlaybookRoutes(scoped, services.playbook);
    registerPublishRoutes(scoped, services.statusPublisher);
    registerConnectorRoutes(scoped, services.connectors);
    registerTaskRoutes(scoped, services.crmOutage);
    registerCrmConsole(scoped, {
      db: services.db,
      clock: services.clock,
      recordOutcome: (actor, id, outcome, note) => services.crmOutage.recordOutcome(actor, id, { outcome, note }),
    });
    registerOwnerRoutes(scoped, services);
    registerDrafterRoutes(scoped, services.drafter);
    registerLeadRoutes(scoped, services.leads);
    registerEventRoutes(scoped, services);
    registerConversationRoutes(
      scoped,
      services.conversations,
      services.clock,
      {},
      new Set(config.fallback.orderOrigins.map((o) => o.replace(/\/$/, ''))),
    );
    registerLinkRoutes(scoped, services.links);
    registerCatalogRoutes(scoped, services.catalog);
    registerOrderRoutes(scoped, services);
    registerMirrorRoutes(scoped, services);
    registerDrillRoutes(scoped, services.drills, config.drill.holdSeconds);
    registerPrivacyRoutes(scoped, services.privacy);
    registerReportRoutes(scoped, services.reports);
    registerReportConsole(scoped, services.reports);
    registerCreditRoutes(scoped, services.credits, services.clock);
    registerCatalogApiRoutes(
      scoped,
      new CatalogIndexCache({
        latestId: () => services.catalog.latestId(),
        latest: async () => ((await services.catalog.latestId()) ? services.catalog.snapshotFile() : null),
      }),
    );
  });

  await app.ready();
  return { app, services, metrics, openapi, routes };
}
