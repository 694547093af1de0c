/**
 * What a browser is told about the console and the API: a strict CSP (the
 * page's script and styles are files of this origin), never framed, no MIME
 * sniffing, no referrer; and a CSV download whose name comes from the field
 * cannot rewrite its Content-Disposition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from './helpers.js';

let t: TestCloud;
beforeAll(async () => {
  t = await testCloud();
});
afterAll(async () => t.close());

/** The CSP as directive → sources. */
function csp(header: string | null): Record<string, string[]> {
  expect(header).toBeTruthy();
  return Object.fromEntries(header!.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k, v]));
}

function expectBrowserHeaders(h: Headers): void {
  expect(h.get('x-frame-options')).toBe('DENY');
  expect(h.get('x-content-type-options')).toBe('nosniff');
  expect(h.get('referrer-policy')).toBe('no-referrer');
  const policy = csp(h.get('content-security-policy'));
  expect(policy).toMatchObject({
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'connect-src': ["'self'"],
    'frame-ancestors': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
  });
  expect(JSON.stringify(policy)).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
}

describe('security headers', () => {
  it('on the console page, which has no inline script or style for the CSP to refuse', async () => {
    const r = await t.call('GET', '/', { as: null });
    expect(r.status).toBe(200);
    expectBrowserHeaders(r.headers);
    expect(r.text).not.toMatch(/<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=/i);
    for (const src of [...r.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])) {
      // The tab icon is inline (a data: SVG, which img-src's data: admits): it loads nothing.
      if (src.startsWith('data:')) {
        expect(src, 'inline tab icon').toMatch(/^data:image\/svg\+xml,/);
        continue;
      }
      expect(src, 'same-origin path').toMatch(/^\/[^/]/);
      const asset = await t.call('GET', src, { as: null });
      expect([src, asset.status]).toEqual([src, 200]);
      expect(asset.headers.get('content-type')).toMatch(/^(text\/javascript|application\/javascript|text\/css)/);
    }
  });

  it('on API answers, including a refusal', async () => {
    const ok = await t.call('GET', '/api/v1/devices', { as: 'viewer' });
    expect(ok.status).toBe(200);
    expectBrowserHeaders(ok.headers);
    const refused = await t.call('GET', '/api/v1/devices', { as: null });
    expect(refused.status).toBe(401);
    expectBrowserHeaders(refused.headers);
  });
});

describe('the console settings', () => {
  it('let the city\'s tile server into img-src and no further, and tell the console who the token is', async () => {
    const c = await testCloud({ console: { tileUrl: 'https://tiles.jining.example/{z}/{x}/{y}.png', tileCoords: 'gcj02', tileAttribution: '济宁市测绘' } });
    try {
      const page = await c.call('GET', '/', { as: null });
      const policy = csp(page.headers.get('content-security-policy'));
      expect(policy['img-src']).toEqual(["'self'", 'data:', 'blob:', 'https://tiles.jining.example']);
      expect(policy['connect-src']).toEqual(["'self'"]);
      const me = await c.call('GET', '/api/v1/console', { as: 'viewer' });
      expect(me.json).toEqual({ user: { name: 'test-viewer', role: 'viewer' }, map: { tileUrl: 'https://tiles.jining.example/{z}/{x}/{y}.png', attribution: '济宁市测绘', coords: 'gcj02' } });
    } finally {
      await c.close();
    }
  });

  it('refuse a tile URL that is not http(s), naming it', async () => {
    await expect(testCloud({ console: { tileUrl: 'javascript:alert(1)//{z}' } })).rejects.toThrow('console tile URL: must be http or https, got "javascript:alert(1)//{z}"');
  });
});

describe('CSV download name', () => {
  it('keeps quotes, semicolons and Chinese out of the header syntax, and the exact name in filename*', async () => {
    const device = '泵站"1"; filename=evil.exe';
    const point = '水位';
    await t.cloud.store.telemetry.commitTelemetry({ gateway: 'gw-csv', epoch: 1, firstSeq: 1, lastSeq: 1, readings: [{ device, point, ts: 500, value: 1 }] });
    const r = await t.call('GET', `/api/v1/readings.csv?gateway=gw-csv&device=${encodeURIComponent(device)}&point=${encodeURIComponent(point)}&from=0&to=1000`, { as: 'viewer' });
    expect(r.status).toBe(200);
    const cd = r.headers.get('content-disposition')!;
    const m = /^attachment; filename="([A-Za-z0-9._-]+)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+.^_`|~-]+)$/.exec(cd);
    expect(m, cd).not.toBeNull();
    expect(m![1]).toMatch(/^gw-csv-_+1__+filename_evil\.exe-_+-0-1000\.csv$/);
    expect(decodeURIComponent(m![2])).toBe(`gw-csv-${device}-${point}-0-1000.csv`);
    // A newline never reaches a header: a name with one is refused before any lookup.
    const crlf = await t.call('GET', `/api/v1/readings.csv?gateway=gw-csv&device=${encodeURIComponent(device)}&point=${encodeURIComponent('水位\r\nX-Injected: yes')}&from=0&to=1000`, { as: 'viewer' });
    expect(crlf.status).toBe(400);
    expect(crlf.headers.get('x-injected')).toBeNull();
  });
});
