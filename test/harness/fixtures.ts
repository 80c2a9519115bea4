import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared real-world fixtures live beside the repository (<root>/main is the repo,
 * <root>/shared/fixtures the captures), or wherever KEEPWARM_TEST_FIXTURES points.
 */
const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const fixturesDir = process.env.KEEPWARM_TEST_FIXTURES
  ? resolve(process.env.KEEPWARM_TEST_FIXTURES)
  : join(REPO_ROOT, '..', 'shared', 'fixtures');

/** null when the fixtures are there; otherwise the one-line reason for describeNeeding(). */
export const fixturesMissing = existsSync(fixturesDir)
  ? null
  : 'no shared fixtures folder (../shared/fixtures next to the repository, or set KEEPWARM_TEST_FIXTURES)';

/** Path of one fixture file, e.g. fixturePath('sms', 'twilio_signature_test_vectors.json'). */
export function fixturePath(...parts: string[]): string {
  return join(fixturesDir, ...parts);
}

export function readFixtureJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T;
}
