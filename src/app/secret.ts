import type { Clock } from '../core/clock.js';
import { newSecret } from '../core/ids.js';
import type { Database } from '../db/database.js';
import { ensureSetting } from '../db/settings.repo.js';

/**
 * The installation's signing secret: the configured one, or one generated on first use and kept
 * in the database, so every process and every restart signs and verifies the same way.
 */
export class InstallationSecret {
  readonly #db: Database;
  readonly #clock: Clock;
  #value: Promise<string> | null;

  constructor(deps: { db: Database; clock: Clock; configured?: string | undefined }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#value = deps.configured ? Promise.resolve(deps.configured) : null;
  }

  get(): Promise<string> {
    this.#value ??= ensureSetting(this.#db.kysely, 'signing_secret', () => newSecret(48), this.#clock.now()).catch(
      (err: unknown) => {
        this.#value = null;
        throw err;
      },
    );
    return this.#value;
  }
}
