/** The webhook store's contract: receivers of every kind, kept whole. */
import { expect, it } from 'vitest';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

export function webhooksContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: webhooks`, factory, (store) => {
    it('stores receivers of each kind, the SMS template included', async () => {
      const w = await store.webhooks.addWebhook({ kind: 'webhook', url: 'http://127.0.0.1:9/x', secret: 's3', minLevel: 2, sms: null, createdBy: 'admin', createdAt: T0 });
      const sms = await store.webhooks.addWebhook({
        kind: 'sms', url: 'http://127.0.0.1:9/sms', secret: '', minLevel: 3, createdBy: 'admin', createdAt: T0,
        sms: { method: 'POST', contentType: 'application/json', body: '{"to":"{phone}","msg":"{text}"}', headers: { 'x-api-key': 'k' }, phones: ['13800000000'] },
      });
      expect(await store.webhooks.listWebhooks()).toEqual([w, sms]);
      expect(await store.webhooks.getWebhook(sms.id)).toEqual(sms);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(true);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(false);
      expect(await store.webhooks.getWebhook(w.id)).toBeUndefined();
    });
  });
}
