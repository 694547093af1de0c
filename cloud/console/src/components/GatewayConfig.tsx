/** A gateway's running vs desired config, last apply result, and edit + push (errors inline, by path). */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type ConfigState } from '../api.js';
import { fmtTime, t, tApplyMessage } from '../i18n/index.js';

export function GatewayConfig(p: { gateway: string }) {
  const [state, setState] = useState<ConfigState | null>(null);
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<{ path: string; message: string }[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const load = () =>
    api
      .config(p.gateway)
      .then((s) => {
        setState(s);
        setText(JSON.stringify(s.desired ?? s.running ?? {}, null, 2));
      })
      .catch((e) => setMessage(String(e.message)));
  useEffect(() => void load(), [p.gateway]);
  const push = async () => {
    setErrors([]);
    setMessage(null);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      setErrors([{ path: 'JSON', message: (e as Error).message }]);
      return;
    }
    try {
      await api.pushConfig(p.gateway, body);
      setMessage(t('gw.pushed'));
      void load();
    } catch (e) {
      if (e instanceof ApiError && e.details.length) setErrors(e.details);
      else setMessage(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    }
  };
  if (!state) return <p>{message ?? t('common.loading')}</p>;
  const answer = state.answer;
  return (
    <section class="gw-config" data-testid="gw-config">
      <h2>
        {t('gw.config')} · {p.gateway}
      </h2>
      <p>
        {t('gw.lastApply')}:{' '}
        {state.pending ? t('gw.pending') : answer ? (
          <span class={answer.ok ? 'ok' : 'bad'} data-status={answer.status}>
            {answer.ok ? t('gw.applied') : answer.status === 'rolled_back' ? t('gw.rolledBack') : t('gw.rejected')}
          </span>
        ) : (
          t('gw.none')
        )}{' '}
        {answer?.message ? `— ${tApplyMessage(answer)}` : ''} {fmtTime(state.answerTs)}
      </p>
      <div class="config-cols">
        <div>
          <h3>
            {t('gw.running')} <small>{fmtTime(state.runningTs)}</small>
          </h3>
          <pre class="json">{JSON.stringify(state.running ?? null, null, 2)}</pre>
        </div>
        <div>
          <h3>
            {t('gw.edit')} <small>{state.desiredBy ? `${t('gw.desired')}: ${state.desiredBy} ${fmtTime(state.desiredTs)}` : ''}</small>
          </h3>
          <textarea name="config" spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <button type="button" class="primary" data-action="push" onClick={() => void push()}>
            {t('gw.push')}
          </button>
          {message && <p class="ok">{message}</p>}
          {errors.length > 0 && (
            <div class="error" role="alert" data-testid="config-errors">
              <strong>{t('gw.invalid')}</strong>
              <ul>
                {errors.map((e) => (
                  <li>
                    <code>{e.path}</code> {e.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
