/**
 * What a duty officer reads: the Chinese text of an alarm notification, in one
 * place for every receiver (WeCom and DingTalk markdown, SMS text). Level names
 * follow the city's four-colour warning scale (蓝色/黄色/橙色/红色预警, level IV to I);
 * times are China time (UTC+8, no daylight saving), whatever the server's zone.
 *
 *   NotificationPayload ─▶ alarmTitle ─▶ DingTalk title
 *                       ├─▶ alarmMarkdown ─▶ WeCom / DingTalk markdown
 *                       └─▶ alarmText ─▶ SMS {text}
 */
import { watchStage, type AlarmState, type AlarmTransition } from '@lifeline/shared';
import { causeInChinese } from '@lifeline/shared/cause-zh';

/** What the outbox keeps for one transition and receiver (JSON in notifications.payload). */
export interface AlarmPayload {
  type: 'alarm.transition';
  gateway: string;
  /** The gateway's buffer epoch of the transition (part of the idempotency key). */
  epoch: number;
  transition: AlarmTransition;
  /** The device (or, for an alarm of the gateway itself, the gateway) as the registry knew it when queued; null when unknown. */
  site: { name: string | null; district: string | null; kind?: string | null; gridUnit?: string | null } | null;
  /** What operators call the alarm's point (its profile's label, e.g. 电流), when the registry knew one when queued. */
  pointLabel?: string;
  /** SMS only: the number this row goes to. */
  phone?: string;
  /** Set when this is an escalation: the alarm is still unacknowledged this long after it was raised. */
  escalation?: { ruleId: number; rule: string; step: number; afterMinutes: number };
}

/** One receiver's daily digest (notify/digest.ts). */
export interface DigestPayload {
  type: 'alarm.digest';
  /** The local date it is for (`YYYY-MM-DD`), part of its key. */
  date: string;
  timeZone: string;
  /** The 24 h summarised: from ≤ ts < to, epoch ms. */
  from: number;
  to: number;
  /** Alarms raised in the window. */
  raised: number;
  /** Raised by level, red first: [{ level: 4, count }, …]; levels with none left out. */
  byLevel: { level: number; count: number }[];
  /** Raised by lifeline kind ('' unknown), most first. */
  byKind: { kind: string; count: number }[];
  /** Raised by district ('' unknown), most first. */
  byDistrict: { district: string; count: number }[];
  /** Alarms still active at the end of the window. */
  active: number;
  /** The worst raises of the window (highest level, then latest), at most five. */
  worst: { gateway: string; device: string; name: string | null; alarmId: string; level: number; cause: string; ts: number }[];
  phone?: string;
}

/** What the outbox keeps: one alarm transition (or escalation), or a digest. */
export type NotificationPayload = AlarmPayload | DigestPayload;

/** Level names, by AlarmLevel (0 normal … 4 red). */
export const levelNames: readonly string[] = ['正常', '蓝色预警', '黄色预警', '橙色预警', '红色预警'];

/** State names a duty officer reads. */
export const stateNames: Record<AlarmState, string> = {
  normal: '恢复正常',
  active_unacked: '报警（未确认）',
  active_acked: '报警（已确认）',
  cleared_unacked: '已恢复（未确认）',
  shelved: '已搁置',
  suppressed: '已抑制',
  out_of_service: '停用检修',
};

/**
 * What became of the alarm, for people: the state's name, except for a yellow watch (alarm-watch.ts),
 * which is a watch waiting for its alarm, or withdrawn.
 */
export function stateLabel(t: Pick<AlarmTransition, 'to' | 'cause'>): string {
  const stage = watchStage(t.cause);
  if (stage === 'raised') return '预警观察（待报警确认，30 秒内未确认即撤销）';
  if (stage === 'withdrawn') return '预警已撤销（未报警）';
  return stateNames[t.to] ?? t.to;
}

/** The level's name; an unknown level as its number. */
export function levelName(level: number): string {
  return levelNames[level] ?? `${level} 级`;
}

/** `2026-12-07 11:39:12` in China time (UTC+8). */
export function chinaTime(ts: number): string {
  return new Date(ts + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The device as named for people: its name and id, or the id alone. */
export function deviceLabel(p: AlarmPayload): string {
  const name = p.site?.name;
  return name && name !== p.transition.device ? `${name}（${p.transition.device}）` : p.transition.device;
}

/** A short title: `【红色预警】洸河路3号灯杆（lamp-gh-03） 报警（未确认）`. */
export function alarmTitle(p: AlarmPayload): string {
  if (p.escalation) return `【升级·${levelName(p.transition.level)}】${deviceLabel(p)} ${p.escalation.afterMinutes} 分钟未确认`;
  return `【${levelName(p.transition.level)}】${deviceLabel(p)} ${stateLabel(p.transition)}`;
}

/** The markdown both robots render (the subset WeCom and DingTalk share: headings, bold, lists). */
export function alarmMarkdown(p: AlarmPayload): string {
  const t = p.transition;
  return [
    `### ${alarmTitle(p)}`,
    ...(p.escalation ? [`- **升级**：规则「${p.escalation.rule}」第 ${p.escalation.step + 1} 级，报警 ${p.escalation.afterMinutes} 分钟仍未确认`] : []),
    `- **级别**：${levelName(t.level)}`,
    `- **状态**：${stateNames[t.from] ?? t.from} → ${stateLabel(t)}`,
    `- **设备**：${deviceLabel(p)}`,
    `- **测点**：${p.pointLabel ? `${p.pointLabel}（${t.point}）` : t.point}${t.value === null ? '' : `（当前值 ${t.value}）`}`,
    `- **区域**：${p.site?.district ?? '未登记'}`,
    `- **网关**：${p.gateway}`,
    `- **原因**：${causeInChinese(t.cause, { name: t.point, label: p.pointLabel })}`,
    `- **时间**：${chinaTime(t.ts)}（北京时间）${p.escalation ? '报警' : ''}`,
  ].join('\n');
}

/** One SMS: short, everything a duty officer needs to act on. */
export function alarmText(p: AlarmPayload): string {
  const t = p.transition;
  const where = p.site?.district ? `，${p.site.district}` : '';
  if (p.escalation) return `【Lifeline】升级：${levelName(t.level)} ${deviceLabel(p)}${where}，${causeInChinese(t.cause, { name: t.point, label: p.pointLabel })}，${p.escalation.afterMinutes} 分钟未确认，报警于 ${chinaTime(t.ts)}。`;
  return `【Lifeline】${levelName(t.level)}：${deviceLabel(p)}${where}，${causeInChinese(t.cause, { name: t.point, label: p.pointLabel })}，${stateLabel(t)}，${chinaTime(t.ts)}。`;
}

/** Lifeline kinds as duty officers say them. */
export const kindNames: Record<string, string> = {
  lamp_post: '路灯', bridge: '桥梁', gas: '燃气', water_supply: '供水', drainage: '排水', heat: '供热', utility_tunnel: '综合管廊', flood: '防汛',
};

/** `2026-12-07 08:00` in the digest's zone. */
function zoned(ts: number, zone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts);
}

const counts = (rows: { count: number }[], label: (r: never) => string) => (rows.length ? rows.map((r) => `${label(r as never)} ${r.count}`).join('、') : '无');

/** The digest's title: `Lifeline 每日报警汇总（2026-12-07）`. */
export function digestTitle(d: DigestPayload): string {
  return `Lifeline 每日报警汇总（${d.date}）`;
}

/** The digest as robot markdown, in Chinese. */
export function digestMarkdown(d: DigestPayload): string {
  return [
    `### ${digestTitle(d)}`,
    `- **时段**：${zoned(d.from, d.timeZone)} 至 ${zoned(d.to, d.timeZone)}（${d.timeZone === 'Asia/Shanghai' ? '北京时间' : d.timeZone}）`,
    `- **新报警**：共 ${d.raised} 起（${counts(d.byLevel, (r: { level: number }) => levelName(r.level))}）`,
    `- **按生命线**：${counts(d.byKind, (r: { kind: string }) => kindNames[r.kind] ?? (r.kind || '未登记'))}`,
    `- **按区域**：${counts(d.byDistrict, (r: { district: string }) => r.district || '未登记')}`,
    `- **仍未恢复**：${d.active} 起`,
    ...(d.worst.length
      ? ['', '#### 最严重', ...d.worst.map((w, i) => `${i + 1}. 【${levelName(w.level)}】${w.name && w.name !== w.device ? `${w.name}（${w.device}）` : w.device || w.gateway}：${causeInChinese(w.cause)}，${zoned(w.ts, d.timeZone)}`)]
      : []),
  ].join('\n');
}

/** The digest as one SMS. */
export function digestText(d: DigestPayload): string {
  return `【Lifeline】${d.date} 报警日报：新报警 ${d.raised} 起（${counts(d.byLevel, (r: { level: number }) => levelName(r.level))}），仍未恢复 ${d.active} 起。`;
}
