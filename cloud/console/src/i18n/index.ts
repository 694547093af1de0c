/**
 * Words, numbers and times for the console: zh-CN by default, English on
 * request (kept in localStorage). Dictionaries are bundled, never fetched.
 *
 *   component ─▶ t('alarm.ack') ─▶ current dictionary ─▶ text (rendered as text, never HTML)
 */
import { zhCN, type MessageKey } from './zh-CN.js';
import { en } from './en.js';
import { causeInChinese, rollbackWhy } from '@lifeline/shared/cause-zh';

/** A language the console speaks. */
export type Lang = 'zh-CN' | 'en';
const dictionaries: Record<Lang, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };
const KEY = 'lifeline.lang';

let lang: Lang = readLang();
const listeners = new Set<() => void>();

function readLang(): Lang {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    /* storage refused (private mode): the default */
  }
  return 'zh-CN';
}

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    /* not kept across reloads, still switched */
  }
  document.documentElement.lang = next;
  for (const l of listeners) l();
}

export function onLangChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The text of `key`, `{name}` placeholders filled. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  let s = dictionaries[lang][key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

/** A message key for a lifeline kind, level or state that may be unknown to the dictionary. */
export function tKind(kind: string | null | undefined): string {
  const key = `kind.${kind ?? 'none'}` as MessageKey;
  return key in zhCN ? t(key) : (kind ?? t('kind.none'));
}
export function tState(state: string): string {
  const key = `state.${state}` as MessageKey;
  return key in zhCN ? t(key) : state;
}
/** An alarm's cause (written in English by the gateway or the cloud) in the current language where its shape is known. */
export function tCause(cause: string, point?: { name: string; label?: string }): string {
  return lang === 'zh-CN' ? causeInChinese(cause, point) : cause;
}
/** A gateway's answer to a pushed config (edge/src/sync/command-handler.ts, the cloud's rolled-back note) in the current language. */
export function tApplyMessage(a: { status?: string; message?: string }): string {
  const msg = a.message ?? '';
  if (lang !== 'zh-CN') return msg;
  const rolled = msg.match(/rolled back to the last good config: ([\s\S]*)$/);
  if (rolled) return rolled[1] === 'no reason given' ? t('gw.rolledBackNoReason') : rollbackWhy(rolled[1]!);
  const refused = msg.match(/^config rejected: (\d+) error\(s\); the gateway keeps running its current config$/);
  if (refused) return t('gw.refusedByGateway', { n: Number(refused[1]) });
  if (a.status === 'done' && /config applied/.test(msg)) return t('gw.appliedNote');
  return msg;
}
/** An alarm's point with the label its profile gives (the alarm list carries it), for tCause. */
export function alarmPoint(a: { point: string; pointLabel?: string | null }): { name: string; label?: string } {
  return a.pointLabel ? { name: a.point, label: a.pointLabel } : { name: a.point };
}
/** A point as operators call it: its Chinese label in zh-CN when its profile gives one, else its name (the id). */
export function tPoint(pt: { name: string; label?: string }): string {
  return lang === 'zh-CN' && pt.label ? pt.label : pt.name;
}
export function tLevel(level: number): string {
  const key = `level.${level}` as MessageKey;
  return key in zhCN ? t(key) : String(level);
}

const numberFormats = new Map<string, Intl.NumberFormat>();
/** A number in the current language, at most `digits` decimals, with its unit when it has one. */
export function fmtNumber(v: number | null | undefined, unit?: string | null, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const key = `${lang}/${digits}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(lang, { maximumFractionDigits: digits })));
  return unit ? `${f.format(v)} ${unit}` : f.format(v);
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
/** An epoch-ms time in the browser's own zone. */
export function fmtTime(ts: number | null | undefined, withDate = true): string {
  if (ts === null || ts === undefined) return '—';
  const key = `${lang}/${withDate}`;
  let f = timeFormats.get(key);
  if (!f)
    timeFormats.set(
      key,
      (f = new Intl.DateTimeFormat(lang, { ...(withDate ? { year: 'numeric', month: '2-digit', day: '2-digit' } : {}), hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })),
    );
  return f.format(ts);
}

/** A duration in ms as the largest sensible unit, e.g. "3 分钟" / "3 min". */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const units: [number, Intl.NumberFormatOptions['unit']][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
    [1, 'millisecond'],
  ];
  for (const [size, unit] of units)
    if (abs >= size || unit === 'millisecond')
      return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: abs >= size * 10 ? 0 : 1 }).format(ms / size);
  return String(ms);
}

/** A day, e.g. "12/07" / "12/07", in the browser's zone (chart axes). */
export function fmtDay(ts: number): string {
  return new Intl.DateTimeFormat(lang, { month: '2-digit', day: '2-digit' }).format(ts);
}
