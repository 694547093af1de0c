/** What `pnpm bench dispatch` generates and where each transition must go, shared by the bench and its cloud. */
import type { AlarmLevel, AlarmTransition } from '../shared/src/index.js';

export const BENCH_GATEWAY = 'gw-bench-jining';
export const BENCH_EPOCH = 1;

/** The site: lamp posts and a bridge in 任城区, a gas station and a lamp post in 兖州区. */
export const BENCH_DEVICES = [
  { id: 'lamp-gh-01', kind: 'lamp_post', district: '任城区' },
  { id: 'bridge-ry-01', kind: 'bridge', district: '任城区' },
  { id: 'gas-yz-01', kind: 'gas', district: '兖州区' },
  { id: 'lamp-yz-02', kind: 'lamp_post', district: '兖州区' },
] as const;

/** The level of transition `seq` (1 blue … 4 red), cycling apart from the device. */
const levelOf = (seq: number): number => 1 + (Math.floor(seq / 3) % 4);

/** Transition `seq`: device and level cycle, alarms alternate raise and clear. */
export function benchTransition(seq: number, ts: number): AlarmTransition {
  const d = BENCH_DEVICES[seq % BENCH_DEVICES.length];
  const raise = Math.floor(seq / 4) % 2 === 0;
  return {
    kind: 'alarm', seq, alarmId: `${d.id}/p${seq % 50}/threshold`, device: d.id, point: `p${seq % 50}`, ts,
    from: raise ? 'normal' : 'active_unacked', to: raise ? 'active_unacked' : 'cleared_unacked', level: levelOf(seq) as AlarmLevel,
    detector: 'threshold', cause: 'bench', value: seq,
  };
}

/** The receivers (A lamp posts rule, B 任城区 rule, C no rule with minLevel 3) transition `seq` must reach. */
export function benchRoutes(seq: number): ('A' | 'B' | 'C')[] {
  const d = BENCH_DEVICES[seq % BENCH_DEVICES.length];
  const level = levelOf(seq);
  return [...(d.kind === 'lamp_post' ? (['A'] as const) : []), ...(d.district === '任城区' ? (['B'] as const) : []), ...(level >= 3 ? (['C'] as const) : [])];
}
