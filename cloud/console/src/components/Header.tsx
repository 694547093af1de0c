/**
 * The header: counts of active alarms per level, a blinking banner while a
 * red alarm is unacknowledged (with the optional sound), live status, language,
 * who is signed in, and the page tabs.
 */
import { useEffect, useState } from 'preact/hooks';
import { alarmPoint, currentLang, setLang, t, tCause, tLevel } from '../i18n/index.js';
import { ACTIVE, store, useTopic } from '../store.js';
import { href, useRoute } from '../route.js';
import { beep, setSound, soundOn } from '../sound.js';
import type { MessageKey } from '../i18n/zh-CN.js';

export function Header(p: { onSignOut(): void }) {
  useTopic('alarms', 'live');
  const route = useRoute();
  const [sound, setSoundState] = useState(soundOn());
  const counts = [0, 0, 0, 0, 0];
  for (const a of store.alarms) if (ACTIVE.has(a.state)) counts[a.level] = (counts[a.level] ?? 0) + 1;
  const redUnacked = store.alarms.filter((a) => a.level === 4 && a.state === 'active_unacked');
  useEffect(() => {
    if (!redUnacked.length || !sound) return;
    beep();
    const timer = setInterval(beep, 5000);
    return () => clearInterval(timer);
  }, [redUnacked.length > 0, sound]);
  const info = store.info!;
  const tab = (page: string, link: string, key: MessageKey) => (
    <a href={link} class={route.page === page ? 'tab active' : 'tab'}>
      {t(key)}
    </a>
  );
  return (
    <header class="top">
      <div class="brand">
        <strong class="title">{t('app.title')}</strong>
        <nav class="tabs">
          {tab('overview', href.overview(), 'nav.overview')}
          {tab('alarms', href.alarms(), 'nav.alarms')}
          {tab('gateways', href.gateways(), 'nav.gateways')}
        </nav>
      </div>
      <div class="counts" data-testid="level-counts">
        {[4, 3, 2, 1].map((level) => (
          <a href={href.alarms()} class={`count level-${level}`} title={tLevel(level)} data-level={level}>
            <span class="dot" />
            <span class="label">{tLevel(level)}</span> <b>{counts[level]}</b>
          </a>
        ))}
      </div>
      <div class="meta">
        <span class={`live ${store.liveStatus}`}>{t(`live.${store.liveStatus}` as MessageKey)}</span>
        <label class="sound">
          <input
            type="checkbox"
            checked={sound}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              setSound(on);
              setSoundState(on);
            }}
          />
          {t('alarms.sound')}
        </label>
        <button type="button" class="link" onClick={() => setLang(currentLang() === 'zh-CN' ? 'en' : 'zh-CN')}>
          {t('lang.switch')}
        </button>
        <span class="user">
          {info.user.name} · {t(`role.${info.user.role}` as MessageKey)}
        </span>
        <button type="button" class="link" onClick={p.onSignOut}>
          {t('signout')}
        </button>
      </div>
      {redUnacked.length > 0 && (
        <a class="red-banner blink" href={href.alarm(redUnacked[0].id)} role="alert" data-testid="red-banner">
          {t('alarms.redBanner', { n: redUnacked.length })} — {deviceName(redUnacked[0].gateway, redUnacked[0].device)}: {tCause(store.causeOf(redUnacked[0]), alarmPoint(redUnacked[0]))}
        </a>
      )}
    </header>
  );
}

export const deviceName = (gateway: string, device: string) => store.deviceName(gateway, device);
