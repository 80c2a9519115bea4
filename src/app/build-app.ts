import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { registerAuditRoutes } from '../audit/audit.routes.js';
import { registerAuthRoutes } from '../auth/auth.routes.js';
import { renderDocument } from '../console/html.js';
import { ErrorPage } from '../console/layout.js';
import { registerJobRoutes } from '../db/jobs/jobs.routes.js';
import { registerComponentConsole } from '../incidents/components.console.js';
import { registerComponentRoutes } from '../incidents/components.routes.js';
import { registerIncidentConsole } from '../incidents/incidents.console.js';
import { registerIncidentRoutes } from '../incidents/incidents.routes.js';
import { registerStatuspageRoutes } from '../incidents/statuspage.routes.js';
import { Metrics } from './metrics.js';
import { OpenApiRegistry } from './openapi.js';
import { BODY_LIMIT, registerErrorHandling } from './plugins/errors.js';
import { Router } from './router.js';
import { createServices, type Deps, type Services } from './services.js';
import { registerSystemRoutes } from './system.routes.js';

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
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const metrics = deps.metrics ?? new Metrics();
  const openapi = new OpenApiRegistry();
  const router = new Router(app, services.auth, openapi);
  const routes: KeepwarmApp['routes'] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  registerErrorHandling(app, (req, status, message) =>
    renderDocument(ErrorPage({ status, message, actor: req.keepwarmActor ?? null })),
  );
  metrics.instrument(app, (url) => url.startsWith('/api/v2/'));
  app.addHook('onResponse', (req, reply, done) => {
    // Errors and changes are worth a log line; the flood of status reads is not.
    if (reply.statusCode >= 500 || (req.method !== 'GET' && req.method !== 'HEAD')) {
      req.log.info(
        { method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request',
      );
    }
    done();
  });

  registerSystemRoutes(router, services, metrics, openapi);
  registerStatuspageRoutes(router, services.statusFeed);
  registerAuthRoutes(router, services.auth, config.publicUrl, config.auth.sessionHours);
  registerComponentRoutes(router, services.components);
  registerIncidentRoutes(router, services.incidents);
  registerAuditRoutes(router, services.db);
  registerJobRoutes(router, services.db, services.clock);
  registerComponentConsole(router, services.components);
  registerIncidentConsole(router, services);

  await app.ready();
  return { app, services, metrics, openapi, routes };
}
