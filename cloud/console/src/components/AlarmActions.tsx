/**
 * What an operator does to an alarm: acknowledge, shelve with an expiry,
 * comment, put out of service (a maintenance window on the device's point).
 * Each answer or refusal is shown where the button was (the API's own words).
 */
import { useState } from 'preact/hooks';
import { api, ApiError, type Alarm } from '../api.js';
import { t } from '../i18n/index.js';
import { store } from '../store.js';
import type { MessageKey } from '../i18n/zh-CN.js';

const DURATIONS: [MessageKey, number][] = [
  ['dur.15m', 15 * 60_000],
  ['dur.1h', 3_600_000],
  ['dur.8h', 8 * 3_600_000],
  ['dur.24h', 24 * 3_600_000],
  ['dur.7d', 7 * 24 * 3_600_000],
];

function message(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : String((e as Error).message ?? e);
}

export function AckButton(p: { alarm: Alarm }) {
  const [state, setState] = useState<'idle' | 'busy' | 'sent' | string>('idle');
  return (
    <span class="ack">
      <button
        type="button"
        class="primary"
        data-action="ack"
        disabled={state === 'busy' || state === 'sent'}
        onClick={async (e) => {
          e.stopPropagation();
          setState('busy');
          try {
            await api.ack(p.alarm.id);
            setState('sent');
            void store.loadAlarms();
          } catch (err) {
            setState(message(err));
          }
        }}
      >
        {t('alarm.ack')}
      </button>
      {state === 'sent' && <span class="ok">{t('alarm.sent')}</span>}
      {state !== 'idle' && state !== 'busy' && state !== 'sent' && <span class="error">{state}</span>}
    </span>
  );
}

type Form = null | 'shelve' | 'comment' | 'oos';

export function AlarmActions(p: { alarm: Alarm; onDone(): void }) {
  const [form, setForm] = useState<Form>(null);
  const [duration, setDuration] = useState(DURATIONS[1][1]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const a = p.alarm;
  const submit = async () => {
    setError(null);
    try {
      if (form === 'shelve') await api.shelve(a.id, duration, text);
      else if (form === 'comment') await api.comment(a.id, text);
      else if (form === 'oos') await api.maintenance({ gateway: a.gateway, device: a.device, point: a.point, until: Date.now() + duration, reason: text });
      setDone(t(form === 'comment' ? 'alarm.comment' : form === 'shelve' ? 'alarm.shelve' : 'alarm.oos'));
      setForm(null);
      setText('');
      void store.loadAlarms();
      p.onDone();
    } catch (e) {
      setError(message(e));
    }
  };
  const open = (f: Form) => {
    setForm(f);
    setError(null);
    setDone(null);
  };
  return (
    <div class="actions" data-testid="alarm-actions">
      <div class="buttons">
        {(a.state === 'active_unacked' || a.state === 'cleared_unacked') && <AckButton alarm={a} />}
        {a.state !== 'normal' && !a.alarmId.startsWith('cloud/') && (
          <button type="button" data-action="shelve" onClick={() => open('shelve')}>
            {t('alarm.shelve')}
          </button>
        )}
        <button type="button" data-action="comment" onClick={() => open('comment')}>
          {t('alarm.comment')}
        </button>
        <button type="button" data-action="oos" onClick={() => open('oos')}>
          {t('alarm.oos')}
        </button>
      </div>
      {form && (
        <form
          class="action-form"
          data-form={form}
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          {form !== 'comment' && (
            <label>
              {t('alarm.duration')}
              <select name="duration" value={String(duration)} onChange={(e) => setDuration(Number((e.target as HTMLSelectElement).value))}>
                {DURATIONS.map(([k, ms]) => (
                  <option value={String(ms)}>{t(k)}</option>
                ))}
              </select>
            </label>
          )}
          <label>
            {form === 'comment' ? t('alarm.comment') : t('alarm.reason')}
            <input name="text" required maxLength={500} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="primary">
            {t('alarm.send')}
          </button>
          <button type="button" onClick={() => setForm(null)}>
            {t('alarm.cancel')}
          </button>
        </form>
      )}
      {done && <p class="ok">✓ {done}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
