/**
 * Hash routes (`#/`, `#/alarms`, `#/alarm/7`, `#/device/<gateway>/<device>`, `#/gateways`):
 * no server round trip, and the hash also carries `#token=` on sign-in links
 * (taken out by session.ts before routing).
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'alarms'; alarm?: number }
  | { page: 'device'; gateway: string; device: string }
  | { page: 'gateways'; gateway?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts[0] === 'alarms') return { page: 'alarms' };
  if (parts[0] === 'alarm' && /^\d+$/.test(parts[1] ?? '')) return { page: 'alarms', alarm: Number(parts[1]) };
  if (parts[0] === 'device' && parts[1] && parts[2]) return { page: 'device', gateway: parts[1], device: parts[2] };
  if (parts[0] === 'gateways') return { page: 'gateways', gateway: parts[1] || undefined };
  return { page: 'overview' };
}

export const href = {
  overview: () => '#/',
  alarms: () => '#/alarms',
  alarm: (id: number) => `#/alarm/${id}`,
  device: (gateway: string, device: string) => `#/device/${encodeURIComponent(gateway)}/${encodeURIComponent(device)}`,
  gateways: (gateway?: string) => (gateway ? `#/gateways/${encodeURIComponent(gateway)}` : '#/gateways'),
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
