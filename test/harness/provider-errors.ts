import { expect } from 'vitest';
import { ProviderError } from '../../src/messaging/providers/provider.js';

/** The ProviderError a provider call failed with (fails the test if it succeeded or threw anything else). */
export async function providerFailure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
