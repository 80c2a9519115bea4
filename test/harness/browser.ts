import { type Browser, chromium } from 'playwright-core';
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
