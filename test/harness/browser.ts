import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestContext } from './context.js';
import { CHROMIUM_PATH } from './env.js';

/**
 * Debian's Chromium, headless, with every background connection off (nothing leaves the
 * machine). Playwright gives each launch a fresh temporary profile.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Listen on a free loopback port; returns the base URL. */
export async function listenForBrowser(ctx: TestContext): Promise<string> {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Open a console page while signed out, get sent to sign-in, sign in, land back on the page. */
export async function signInThrough(
  page: Page,
  base: string,
  credentials: { email: string; password: string },
  path = '/console',
): Promise<void> {
  await page.goto(`${base}${path}`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('Email').fill(credentials.email);
  await page.getByLabel('Password').fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}${path === '/console' ? '/console/incidents' : path}`);
}
