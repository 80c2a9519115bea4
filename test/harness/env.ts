import { existsSync } from 'node:fs';
import { describe, test } from 'vitest';

/** In CI nothing skips: a missing dependency fails the suite instead. */
export const IN_CI = process.env.CI === 'true';

/**
 * A describe() that needs something a stranger's machine may lack (PostgreSQL, Chromium, nginx,
 * the shared fixtures). Missing here: skipped with a one-line reason. Missing in CI: fails.
 */
export function describeNeeding(what: string, missingReason: string | null, name: string, fn: () => void): void {
  if (missingReason === null) {
    describe(name, fn);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      test(`needs ${what}`, () => {
        throw new Error(`${what} is required in CI: ${missingReason}`);
      });
    });
    return;
  }
  describe.skip(`${name} [skipped: ${what} unavailable — ${missingReason}]`, fn);
}

export const CHROMIUM_PATH = process.env.KEEPWARM_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM_PATH) ? null : `no browser at ${CHROMIUM_PATH} (apt-get install chromium)`;

export const PG_URL = process.env.KEEPWARM_TEST_DATABASE_URL;
export const postgresMissing = PG_URL ? null : 'KEEPWARM_TEST_DATABASE_URL is not set';
