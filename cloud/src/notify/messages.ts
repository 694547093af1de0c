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
import type { AlarmState, AlarmTransition } from '@lifeline/shared';

/** What the outbox keeps for one transition and receiver (JSON in notifications.payload). */
export interface NotificationPayload {
  type: 'alarm.transition';
  gateway: string;
  /** The gateway's buffer epoch of the transition (part of the idempotency key). */
  epoch: number;
  transition: AlarmTransition;
  /** The device as the registry knew it when the transition was queued; null when unknown. */
  site: { name: string | null; district: string | null } | null;
  /** SMS only: the number this row goes to. */
  phone?: string;
}

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

/** The level's name; an unknown level as its number. */
export function levelName(level: number): string {
  return levelNames[level] ?? `${level} 级`;
}

/** `2026-12-07 11:39:12` in China time (UTC+8). */
export function chinaTime(ts: number): string {
  return new Date(ts + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The device as named for people: its name and id, or the id alone. */
export function deviceLabel(p: NotificationPayload): string {
  const name = p.site?.name;
  return name && name !== p.transition.device ? `${name}（${p.transition.device}）` : p.transition.device;
}

/** A short title: `【红色预警】洸河路3号灯杆（lamp-gh-03） 报警（未确认）`. */
export function alarmTitle(p: NotificationPayload): string {
  return `【${levelName(p.transition.level)}】${deviceLabel(p)} ${stateNames[p.transition.to] ?? p.transition.to}`;
}

/** The markdown both robots render (the subset WeCom and DingTalk share: headings, bold, lists). */
export function alarmMarkdown(p: NotificationPayload): string {
  const t = p.transition;
  return [
    `### ${alarmTitle(p)}`,
    `- **级别**：${levelName(t.level)}`,
    `- **状态**：${stateNames[t.from] ?? t.from} → ${stateNames[t.to] ?? t.to}`,
    `- **设备**：${deviceLabel(p)}`,
    `- **测点**：${t.point}${t.value === null ? '' : `（当前值 ${t.value}）`}`,
    `- **区域**：${p.site?.district ?? '未登记'}`,
    `- **网关**：${p.gateway}`,
    `- **原因**：${t.cause}`,
    `- **时间**：${chinaTime(t.ts)}（北京时间）`,
  ].join('\n');
}

/** One SMS: short, everything a duty officer needs to act on. */
export function alarmText(p: NotificationPayload): string {
  const t = p.transition;
  const where = p.site?.district ? `，${p.site.district}` : '';
  return `【Lifeline】${levelName(t.level)}：${deviceLabel(p)}${where}，${t.cause}，${stateNames[t.to] ?? t.to}，${chinaTime(t.ts)}。`;
}
