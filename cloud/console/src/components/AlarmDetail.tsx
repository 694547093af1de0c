/**
 * One alarm: where (device name, gateway, ids), the cause that set its level (the raise's, or
 * an escalation's) and when it was first raised (kept whatever transitions followed), its history,
 * comments and commands, a chart of its point around the raising time, and
 * the operator's actions.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, can, type AlarmDetail as Detail, type Bucket } from '../api.js';
import { fmtNumber, fmtTime, t, tCause, tKind, tLevel, tPoint, tState } from '../i18n/index.js';
import { store, useTopic } from '../store.js';
import { href } from '../route.js';
import { AlarmActions } from './AlarmActions.js';
import { Chart } from './Chart.js';
import { alarmState } from '../watch.js';
import { levelTransition } from '../alarm-order.js';

export function AlarmDetail(p: { id: number }) {
  // The device's points (the unit of the chart) come with the full device list.
  useTopic('alarms', 'registry');
  useEffect(() => store.wantDetails(), []);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [span, setSpan] = useState<[number, number] | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const article = useRef<HTMLElement>(null);
  const row = store.alarms.find((a) => a.id === p.id);
  const version = row ? `${row.state}/${row.since}` : '';
  useEffect(() => {
    let live = true;
    api
      .alarm(p.id)
      .then((d) => {
        if (!live) return;
        setDetail(d);
        const r = levelTransition(d.history);
        if (r && d.raisedAt !== null) store.raisingCause.set(`${d.gateway}/${d.alarmId}@${d.raisedAt}`, r.cause);
      })
      .catch((e) => live && setError(String(e.message)));
    return () => {
      live = false;
    };
  }, [p.id, version, tick]);
  // In one column (a phone) the detail is above the list, which may have been scrolled: bring it into view once drawn.
  const shown = detail !== null;
  useEffect(() => {
    if (shown && matchMedia('(max-width: 1100px)').matches) article.current?.scrollIntoView({ block: 'start' });
  }, [p.id, shown]);
  const raisedAt = detail ? (detail.raisedAt ?? detail.since) : null;
  // A gateway's own alarm (an alarm flood) or the cloud's (gateway silent) is of no device: no series to chart, its
  // gateway to open. Known once the full device list is in.
  const ofDevice = detail && store.detailed ? store.device(detail.gateway, detail.device) !== undefined : undefined;
  useEffect(() => {
    if (!detail || raisedAt === null || !ofDevice) return;
    const from = raisedAt - 3_600_000;
    const to = Math.min(Date.now(), raisedAt + 3_600_000);
    setSpan([from, to]);
    api
      .buckets(detail.gateway, detail.device, detail.point, from, to, Math.max(1000, Math.ceil((to - from) / 600)))
      .then(setBuckets)
      .catch(() => setBuckets([]));
  }, [detail?.id, raisedAt, ofDevice]);
  if (error) return <p class="error">{error}</p>;
  if (!detail) return <p>{t('common.loading')}</p>;
  const d = detail;
  const device = store.device(d.gateway, d.device);
  const pt = device?.points.find((x) => x.name === d.point);
  const unit = pt?.unit ?? null;
  const pointLabel = pt ? tPoint(pt) : d.point;
  const raising = levelTransition(d.history);
  const state = alarmState(d, raising?.cause ?? d.cause);
  return (
    <article ref={article} class={`alarm-detail level-${d.level}`} data-testid="alarm-detail" data-alarm={d.id}>
      <header>
        <span class="badge">{tLevel(d.level)}</span>
        <h2>
          <a href={ofDevice === false ? href.gateways(d.gateway) : href.device(d.gateway, d.device)}>{store.deviceName(d.gateway, d.device)}</a> · {pointLabel}{pointLabel !== d.point && <small class="ids"> {d.point}</small>}
        </h2>
        <span class="state" title={state.hint}>
          {state.text}
        </span>
        <a class="close" href={href.alarms()}>
          {t('alarm.close')}
        </a>
      </header>
      <dl class="facts">
        <dt>{t('alarm.cause')}</dt>
        <dd class="cause">{tCause(raising?.cause ?? d.cause, pt)}</dd>
        <dt>{t('alarm.raised')}</dt>
        <dd>{fmtTime(d.raisedAt)}</dd>
        <dt>{t('alarm.since')}</dt>
        <dd>{fmtTime(d.since)}</dd>
        <dt>{t('alarm.value')}</dt>
        <dd>{fmtNumber(raising?.value ?? d.value, unit)}</dd>
        <dt>{t('device.id')}</dt>
        <dd class="ids">
          {d.gateway} / {d.device} / {d.alarmId}
        </dd>
        <dt>{t('filter.kind')}</dt>
        <dd>{[tKind(d.kind), d.district, device?.location?.gridUnit].filter(Boolean).join(' · ')}</dd>
        {d.maintenance && (
          <>
            <dt>{t('state.out_of_service')}</dt>
            <dd>
              {t('alarm.until')} {fmtTime(d.maintenance.until)} — {d.maintenance.reason}
            </dd>
          </>
        )}
      </dl>
      {state.hint && (
        <p class="watch-note" data-testid="watch-note">
          {state.hint}
        </p>
      )}
      {can(store.info?.user.role, 'operator') && <AlarmActions alarm={d} onDone={() => setTick((n) => n + 1)} />}
      {ofDevice !== false && (
        <>
          <h3>{t('alarm.chart')}</h3>
          {buckets ? <Chart buckets={buckets} unit={unit} mark={d.raisedAt} label={pointLabel} height={220} range={span} /> : <p>{t('common.loading')}</p>}
        </>
      )}
      <h3>{t('alarm.history')}</h3>
      <table class="history">
        <tbody>
          {[...d.history].reverse().map((h) => (
            <tr>
              <td>{fmtTime(h.ts)}</td>
              <td>
                {tState(h.from)} → {tState(h.to)}
              </td>
              <td>{tLevel(h.level)}</td>
              <td class="cause">{tCause(h.cause, pt)}</td>
              <td>{h.user ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {d.comments.length > 0 && (
        <>
          <h3>{t('alarm.comments')}</h3>
          <ul class="comments" data-testid="comments">
            {d.comments.map((c) => (
              <li>
                <time>{fmtTime(c.ts)}</time> <b>{c.user}</b>: <span class="text">{c.text}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </article>
  );
}
