/**
 * One device: its points with live values and units, a chart per chosen point
 * (1 h … 30 d, downsampled by the API's `step` to ~600 buckets), zoom, CSV
 * download, its alarm history, its gateway and its comm quality.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, downloadCsv, type Alarm, type Bucket } from '../api.js';
import { fmtDuration, fmtNumber, fmtTime, t, tCause, tKind, tLevel, tPoint, tState } from '../i18n/index.js';
import { store, useTopic } from '../store.js';
import { href } from '../route.js';
import { Chart } from './Chart.js';
import type { MessageKey } from '../i18n/zh-CN.js';

export const RANGES: [MessageKey, number][] = [
  ['range.1h', 3_600_000],
  ['range.6h', 6 * 3_600_000],
  ['range.24h', 24 * 3_600_000],
  ['range.7d', 7 * 24 * 3_600_000],
  ['range.30d', 30 * 24 * 3_600_000],
];
/** Buckets a chart asks for: enough for a 3840 px wall, few enough to draw at once. */
export const BUCKETS = 720;

export function DeviceView(p: { gateway: string; device: string }) {
  useTopic('registry', 'gateways', 'values', 'alarms');
  useEffect(() => store.wantDetails(), []);
  // The overview's list lacks points and status: the device shows once the full list is in.
  const d = store.detailed ? store.device(p.gateway, p.device) : undefined;
  const [point, setPoint] = useState<string | null>(null);
  const [range, setRange] = useState(RANGES[0][1]);
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [shown, setShown] = useState<[number, number] | undefined>(undefined);
  const [history, setHistory] = useState<Alarm[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The profile's points; a device without one shows the points its alarms name.
  const points = !d ? [] : d.points.length ? d.points : [...new Set(store.alarms.filter((a) => a.gateway === p.gateway && a.device === p.device).map((a) => a.point))].map((name) => ({ name, unit: null, label: undefined }));
  const chosen = point ?? points[0]?.name ?? null;
  useEffect(() => {
    if (!chosen) return;
    let live = true;
    const to = Date.now();
    const from = to - range;
    setBuckets(null);
    setShown([from, to]);
    api
      .buckets(p.gateway, p.device, chosen, from, to, Math.max(1000, Math.ceil(range / BUCKETS)))
      .then((b) => live && setBuckets(b))
      .catch((e) => live && (setError(String(e.message)), setBuckets([])));
    return () => {
      live = false;
    };
  }, [p.gateway, p.device, chosen, range]);
  useEffect(() => {
    api
      .alarms({ gateway: p.gateway, device: p.device, limit: 100 })
      .then(setHistory)
      .catch(() => setHistory([]));
  }, [p.gateway, p.device, store.alarms]);
  if (!d) return <p class="empty">{store.detailed ? t('device.notFound') : t('common.loading')}</p>;
  const gw = store.gatewayIndex.get(d.gateway);
  const level = store.deviceLevel.get(`${d.gateway}\u0000${d.id}`) ?? 0;
  const chosenPoint = points.find((x) => x.name === chosen);
  const unit = chosenPoint?.unit ?? null;
  const chosenLabel = chosenPoint ? tPoint(chosenPoint) : chosen;
  return (
    <div class="device-view" data-testid="device-view">
      <header class={`device-head level-${level}`}>
        <h1>{d.name || d.id}</h1>
        <span class="badge">{tLevel(level)}</span>
        <span class="ids">
          {t('device.id')}: {d.gateway} / {d.id} {d.profile ? `· ${d.profile}` : ''}
        </span>
      </header>
      <dl class="facts">
        <dt>{t('filter.kind')}</dt>
        <dd>{tKind(d.kind)}</dd>
        <dt>{t('device.location')}</dt>
        <dd>{[d.location?.district, d.location?.gridUnit].filter(Boolean).join(' · ') || '—'}</dd>
        <dt>{t('device.gateway')}</dt>
        <dd>
          <a href={href.gateways(d.gateway)}>{gw?.name || d.gateway}</a> ({gw?.online ? t('device.online') : t('device.offline')})
        </dd>
        <dt>{t('device.comm')}</dt>
        <dd>
          {d.online ? t('device.online') : t('device.offline')} · {t('device.completeness')} {fmtNumber(d.completeness24h === null ? null : d.completeness24h * 100, '%', 1)} ·{' '}
          {t('device.updated')} {fmtTime(d.lastReadingTs)}
          {d.lastReadingTs ? ` (${t('common.ago', { t: fmtDuration(Date.now() - d.lastReadingTs) })})` : ''}
        </dd>
      </dl>
      <h2>{t('device.points')}</h2>
      <table class="points" data-testid="points">
        <tbody>
          {points.map((pt) => {
            const v = store.latest(d.gateway, d.id, pt.name);
            return (
              <tr class={pt.name === chosen ? 'chosen' : ''} data-point={pt.name}>
                <td>
                  <button type="button" class="link" onClick={() => setPoint(pt.name)}>
                    {tPoint(pt)}
                  </button>
                  {tPoint(pt) !== pt.name && <small class="ids"> {pt.name}</small>}
                </td>
                <td class="num value">{fmtNumber(v?.value, pt.unit)}</td>
                <td class="when">{v ? fmtTime(v.ts, false) : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {chosen && (
        <section class="chart-box">
          <div class="chart-bar">
            <strong>{chosenLabel}</strong>
            <span class="ranges" role="group" aria-label={t('device.range')}>
              {RANGES.map(([k, ms]) => (
                <button type="button" class={ms === range ? 'on' : ''} data-range={ms} onClick={() => setRange(ms)}>
                  {t(k)}
                </button>
              ))}
            </span>
            <button
              type="button"
              data-action="csv"
              onClick={() => {
                const to = Date.now();
                downloadCsv(d.gateway, d.id, chosen, Math.max(to - range, to - 31 * 86_400_000 + 1000), to).catch((e) => setError(String(e.message)));
              }}
            >
              {t('device.csv')}
            </button>
            <small class="hint">{t('device.zoomHint')}</small>
          </div>
          {buckets ? <Chart buckets={buckets} unit={unit} label={chosenLabel ?? chosen} height={300} range={shown} /> : <p>{t('common.loading')}</p>}
        </section>
      )}
      {error && <p class="error">{error}</p>}
      <h2>{t('device.alarms')}</h2>
      <table class="history">
        <tbody>
          {history.map((a) => (
            <tr class={`level-${a.level}`}>
              <td>
                <a href={href.alarm(a.id)}>{fmtTime(a.raisedAt ?? a.since)}</a>
              </td>
              <td>{tLevel(a.level)}</td>
              <td>{tPoint(points.find((x) => x.name === a.point) ?? { name: a.point })}</td>
              <td class="cause">{tCause(store.causeOf(a), points.find((x) => x.name === a.point))}</td>
              <td>{tState(a.state)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
