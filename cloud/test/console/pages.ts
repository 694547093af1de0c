/** What the console's browser tests share: a tab signed in with a role's token, an alarm's id by device. */
import type { Page } from 'playwright-core';
import type { TestCloud } from '../api/helpers.js';
import type { Browser } from '../../../test/browser.js';

/** Helpers over the cloud and browser a test file starts in its beforeAll (read when called). */
export function consolePages(get: () => { t: TestCloud; b: Browser }, gateway: string) {
  return {
    /** The cloud's id of the newest alarm of `device` on the test's gateway. */
    async alarmId(device: string): Promise<number> {
      const r = await get().t.call('GET', `/api/v1/alarms?gateway=${gateway}&device=${device}`);
      return r.json[0].id;
    },
    /** A tab at `width`×`height` opened with `role`'s token link (and a route before it), its header drawn. */
    async signedIn(role: keyof TestCloud['tokens'], width = 1366, height = 800, hash = ''): Promise<Page & { errors: string[] }> {
      const { t, b } = get();
      const page = await b.page(width, height);
      await page.goto(`${t.cloud.apiUrl}/#${hash ? `${hash}&` : ''}token=${encodeURIComponent(t.tokens[role])}`);
      await page.waitForSelector('header.top', { timeout: 15_000 });
      return page;
    },
  };
}
