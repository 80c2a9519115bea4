import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Actor } from '../../app/actor.js';
import { recordAudit } from '../../audit/audit.repo.js';
import type { Clock } from '../../core/clock.js';
import { AppError, conflict, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Database } from '../../db/database.js';
import type { OutboxService } from '../../messaging/outbox.service.js';
import { canMove, flagLines, newReference, type OrderInput, type OrderState } from './orders.js';
import * as repo from './orders.repo.js';

export const SALES_TEMPLATE = 'email.offline_order';
export const RECEIPT_TEMPLATE = 'email.offline_order_receipt';

export interface OrderServiceOptions {
  /** fallback.salesEmail: where orders are emailed; unset, they are only stored. */
  salesEmail: string | undefined;
  publicUrl: string;
}

/**
 * Receives offline purchase orders: stores them with the open incident and the catalog check, and
 * queues the sales email and the buyer's receipt in the same transaction.
 */
export class OrderService {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      log: Logger;
      outbox: Pick<OutboxService, 'dispatch'>;
      secret: { get(): Promise<string> };
      catalogLatestId: () => Promise<string | null>;
      options: OrderServiceOptions;
    },
  ) {}

  get salesEmail(): string | undefined {
    return this.deps.options.salesEmail;
  }

  async receive(input: OrderInput, meta: { ip: string }): Promise<repo.Order> {
    const { db, clock, outbox, options } = this.deps;
    // Everything read before the transaction (SQLite has one connection).
    const secret = await this.deps.secret.get();
    const snapshotId = await this.deps.catalogLatestId();
    const known = snapshotId
      ? await repo.knownSkus(
          db.kysely,
          snapshotId,
          input.lines.map((l) => l.sku),
        )
      : new Set<string>();
    const lines = flagLines(input.lines, known);
    const ipHash = createHash('sha256').update(`${secret}:order-ip:${meta.ip}`).digest('hex').slice(0, 32);
    return db.tx(async (trx) => {
      const now = clock.now();
      const incident = await repo.openIncident(trx);
      const order: repo.NewOrder = {
        id: newId(now),
        reference: newReference(),
        createdAt: now,
        company: input.company,
        contactName: input.name,
        email: input.email,
        phone: input.phone,
        lines,
        notes: input.notes,
        source: input.source,
        snapshotId,
        unknownSkus: lines.filter((l) => !l.known).length,
        incidentId: incident?.id ?? null,
        state: 'new',
        emailedAt: null,
        emailProblem: null,
        ipHash,
      };
      const variables = {
        reference: order.reference,
        company: order.company,
        contact_name: order.contactName,
        contact_email: order.email,
        contact_phone: order.phone ?? 'not given',
        order_notes: order.notes ?? 'none',
        order_lines: lines
          .map(
            (l) =>
              `${l.quantity.toLocaleString('en-US')} x ${l.sku}${l.name ? `: ${l.name}` : ''}${l.known ? '' : ' (NOT IN CATALOG)'}`,
          )
          .join('; '),
        catalog_check:
          snapshotId === null
            ? 'No catalog has been imported, so no SKU could be checked.'
            : order.unknownSkus === 0
              ? 'Every SKU is in the current catalog.'
              : `${order.unknownSkus} SKU(s) are not in the current catalog: check them with the buyer.`,
        incident_note: incident ? `Received during the incident "${incident.name}".` : 'No incident was open.',
        console_url: `${options.publicUrl.replace(/\/$/, '')}/console/orders`,
        order_source: order.source ?? 'unknown',
      };
      if (!options.salesEmail) {
        order.emailProblem = 'No sales address configured (fallback.salesEmail): the order was stored but not emailed.';
      } else {
        try {
          await outbox.dispatch(trx, {
            templateKey: SALES_TEMPLATE,
            recipients: [{ address: options.salesEmail, name: 'Sales' }],
            variables,
            step: `order:${order.id}`,
          });
          order.emailedAt = now;
        } catch (err) {
          // Never lose an order over its email (template not approved, a value refused): say why instead.
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          order.emailProblem = `The sales email was not queued: ${err.message}`;
        }
      }
      try {
        await outbox.dispatch(trx, {
          templateKey: RECEIPT_TEMPLATE,
          recipients: [{ address: order.email, name: order.contactName, variables: { first_name: order.contactName } }],
          variables,
          step: `order-receipt:${order.id}`,
        });
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        this.deps.log.warn({ order: order.reference, err: err.message }, 'offline order receipt not queued');
      }
      await repo.insertOrder(trx, order);
      return { ...order, updatedAt: now, incidentName: incident?.name ?? null };
    });
  }

  list(options: { state?: OrderState | undefined; limit?: number } = {}): Promise<repo.Order[]> {
    return repo.listOrders(this.deps.db.kysely, { state: options.state, limit: options.limit ?? 200 });
  }

  async move(actor: Actor, id: string, to: OrderState): Promise<repo.Order> {
    const { db, clock } = this.deps;
    return db.tx(async (trx) => {
      const order = await repo.findOrder(trx, id);
      if (!order) throw notFound('order', id);
      if (!canMove(order.state, to))
        throw conflict('invalid_transition', `Order ${order.reference} is ${order.state}; it cannot be marked ${to}.`, {
          state: order.state,
        });
      const now = clock.now();
      if (!(await repo.setState(trx, id, order.state, to, now)))
        throw conflict('changed', `Order ${order.reference} was changed meanwhile; reload.`);
      await recordAudit(trx, {
        at: now,
        actor,
        action: `order.${to}`,
        target: { type: 'order', id },
        details: { reference: order.reference, from: order.state },
      });
      return { ...order, state: to, updatedAt: now };
    });
  }
}
