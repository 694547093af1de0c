/**
 * The alarm console's list: filters (lifeline, district, grid unit, state),
 * rows in compareAlarms order; an unacknowledged red row blinks until acknowledged.
 * Operators and up get the Ack button in the row; viewers do not see it.
 */
import { useState } from 'preact/hooks';
import { can } from '../api.js';
import { alarmPoint, fmtTime, t, tCause, tKind, tLevel, tState } from '../i18n/index.js';
import { filterAlarms, NO_FILTERS, type AlarmFilters } from '../alarm-order.js';
import { store, UNACKED, useTopic } from '../store.js';
import { href } from '../route.js';
import { AckButton } from './AlarmActions.js';
import { alarmState, isWatch } from '../watch.js';

const STATES = ['active_unacked', 'active_acked', 'cleared_unacked', 'shelved', 'suppressed', 'out_of_service'];
const MAX_ROWS = 500;

export function AlarmList(p: { selected?: number; compact?: boolean }) {
  useTopic('alarms', 'registry');
  const [f, setF] = useState<AlarmFilters>(NO_FILTERS);
  const gridOf = (a: { gateway: string; device: string }) => store.device(a.gateway, a.device)?.location?.gridUnit;
  const all = store.alarms;
  const kinds = [...new Set(all.map((a) => a.kind ?? ''))].filter(Boolean).sort();
  const districts = [...new Set(all.map((a) => a.district ?? ''))].filter(Boolean).sort();
  const grids = [...new Set(all.map((a) => gridOf(a) ?? ''))].filter(Boolean).sort();
  const rows = filterAlarms(all, f, gridOf);
  const operator = can(store.info?.user.role, 'operator');
  const select = (key: keyof AlarmFilters, label: string, options: [string, string][]) => (
    <label>
      {label}
      <select name={key} value={f[key]} onChange={(e) => setF({ ...f, [key]: (e.target as HTMLSelectElement).value })}>
        {options.map(([v, text]) => (
          <option value={v}>{text}</option>
        ))}
      </select>
    </label>
  );
  return (
    <section class={p.compact ? 'alarms compact' : 'alarms'} data-testid="alarm-list">
      <div class="filters">
        {select('kind', t('filter.kind'), [['', t('filter.all')], ...kinds.map((k): [string, string] => [k, tKind(k)])])}
        {select('district', t('filter.district'), [['', t('filter.all')], ...districts.map((d): [string, string] => [d, d])])}
        {select('grid', t('filter.grid'), [['', t('filter.all')], ...grids.map((g): [string, string] => [g, g])])}
        {select('state', t('filter.state'), [['open', t('filter.active')], ...STATES.map((s): [string, string] => [s, tState(s)])])}
      </div>
      {rows.length === 0 && <p class="empty">{t('alarms.none')}</p>}
      <ol class="alarm-rows">
        {rows.slice(0, MAX_ROWS).map((a) => {
          const cause = store.causeOf(a);
          const state = alarmState(a, cause);
          return (
          <li
            key={a.id}
            class={`alarm level-${a.level} state-${a.state}${a.level === 4 && a.state === 'active_unacked' ? ' blink' : ''}${p.selected === a.id ? ' selected' : ''}${isWatch(a, cause) ? ' watch' : ''}`}
            data-alarm={a.id}
            data-level={a.level}
            data-state={a.state}
            data-watch={isWatch(a, cause) ? 'true' : undefined}
          >
            <a class="alarm-main" href={href.alarm(a.id)}>
              <span class="badge">{tLevel(a.level)}</span>
              <span class="name">{store.deviceName(a.gateway, a.device)}</span>
              <span class="point">{a.point}</span>
              <span class="cause">{tCause(cause, alarmPoint(a))}</span>
              <span class="when" title={t('alarm.raised')}>
                {fmtTime(a.raisedAt ?? a.since)}
              </span>
              <span class="state" title={state.hint}>
                {state.text}
              </span>
              {!p.compact && <span class="where">{[tKind(a.kind), a.district].filter(Boolean).join(' · ')}</span>}
            </a>
            {operator && UNACKED.has(a.state) && <AckButton alarm={a} />}
          </li>
          );
        })}
      </ol>
    </section>
  );
}
