import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('replaces secret-named values at any depth and leaves the input alone', () => {
    const cfg = { sync: { url: 'mqtt://x', username: 'gw-a', password: 'hunter2', tls: { passphrase: 'p', key: 'key.pem' } }, webhooks: [{ url: 'u', secret: 's' }] };
    const out = redactSecrets(cfg);
    expect(out.sync.password).toBe(REDACTED);
    expect(out.sync.tls.passphrase).toBe(REDACTED);
    expect(out.sync.tls.key).toBe('key.pem'); // a path, not a secret
    expect(out.webhooks[0].secret).toBe(REDACTED);
    expect(out.sync.username).toBe('gw-a');
    expect(cfg.sync.password).toBe('hunter2');
  });
  it('keeps null and absent secrets visible as such', () => {
    expect(redactSecrets({ password: null })).toEqual({ password: null });
    expect(redactSecrets({ a: 1 })).toEqual({ a: 1 });
  });
});
