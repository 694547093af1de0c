/**
 * Debian's Chromium driven by playwright-core, for the console's browser tests
 * and `pnpm bench console`: headless, no GPU, no network of its own, a fresh
 * user-data-dir each time. Screenshots go to test-results/console/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOTS = join(import.meta.dirname, '..', 'test-results', 'console');

export interface Browser {
  context: BrowserContext;
  /** A new tab at `width`×`height`, with page errors collected. */
  page(width?: number, height?: number): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
}

/** Chromium with a fresh profile; throws (under CI: the test fails) when Debian's chromium is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: 'pnpm test' installs it (apt-get install -y chromium)`);
  const profile = tempDir('lifeline-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1366, height: 800 } });
  return {
    context,
    async page(width = 1366, height = 800) {
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(String(e)));
      page.setDefaultTimeout(10_000);
      await page.setViewportSize({ width, height });
      return page;
    },
    async close() {
      await context.close();
      profile.cleanup();
    },
  };
}

/** Saves a screenshot under test-results/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
