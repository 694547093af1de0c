/** The webhook store's contract. */
import { expect, it } from 'vitest';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

export function webhooksContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: webhooks`, factory, (store) => {
    it('stores webhooks', async () => {
      const w = await store.webhooks.addWebhook({ url: 'http://127.0.0.1:9/x', secret: 's3', minLevel: 2, createdBy: 'admin', createdAt: T0 });
      expect(await store.webhooks.listWebhooks()).toEqual([w]);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(true);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(false);
    });
  });
}
