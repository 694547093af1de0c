import { AlarmLevel } from '@lifeline/shared';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EdgeBuffer } from '../buffer/buffer.js';
import { AlarmStore } from '../alarms/store.js';
import { resolveAlarmsConfig } from '../alarms/config.js';
import { bufferSink } from '../alarms/journal.js';
import { AlarmManager } from '../alarms/manager.js';
import { GpioOutput, ModbusOutput, SimulatedOutput, gpioAvailability, type GpioClass, type OutputBackend } from './backends.js';
import type { ActionConfig, OutputConfig } from './config.js';
import { ActionEngine } from './engine.js';
import type { PointWriter } from './point-writer.js';

const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const ID = 'flood-1/ponding_depth/threshold';
const when = (level: 'yellow' | 'orange' | 'red'): ActionConfig['when'] => ({ device: 'flood-1', point: 'ponding_depth', level });
const open: { buffer: EdgeBuffer; engine: ActionEngine }[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.engine.stop();
    o.buffer.close();
  }
  vi.useRealTimers();
});

/** Manager + engine on one buffer; outputs are simulated, or Modbus through `writer`. */
function rig(outputs: OutputConfig[], actions: ActionConfig[], o: { path?: string; writer?: PointWriter; keep?: boolean } = {}) {
  const buffer = new EdgeBuffer(o.path ?? ':memory:');
  const store = new AlarmStore(buffer.alarmTables());
  const m = new AlarmManager({ gateway: 'gw', config: resolveAlarmsConfig({ chatter: { count: 3, windowMs: 60_000 } }), store, sink: bufferSink(buffer) });
  m.start();
  const backends = new Map<string, OutputBackend>();
  const engine = new ActionEngine({
    outputs,
    actions,
    store,
    alarms: () => m.records(),
    subscribe: (l) => m.onChange(l),
    backendFor: (cfg, initial) => {
      const b = cfg.modbus ? new ModbusOutput(o.writer!, cfg.modbus.device, cfg.modbus.point, cfg.modbus.on ?? 1, cfg.modbus.off ?? 0) : new SimulatedOutput(cfg.test ? 'test' : 'simulated', initial);
      backends.set(cfg.name, b);
      return b;
    },
  });
  engine.start();
  if (!o.keep) open.push({ buffer, engine });
  const sim = (name: string) => backends.get(name) as SimulatedOutput;
  /** [ms since T0, on] of every recorded switching. */
  const switched = (name: string) => sim(name).switched.map((s) => [s.ts - T0, s.on]);
  const raise = (level: AlarmLevel, over: Partial<Parameters<AlarmManager['onCondition']>[0]> = {}) =>
    m.onCondition({ alarmId: ID, device: 'flood-1', point: 'ponding_depth', detector: 'threshold', ts: Date.now(), level, value: level ? 0.31 : 0.05, cause: 'test', ...over });
  return { buffer, store, m, engine, sim, switched, raise };
}

describe('outputs follow their alarms', () => {
  it('follow: on at red, held for the minimum on-time after the alarm clears', () => {
    const r = rig([{ name: 'beacon', gpio: { pin: 17 }, minOnMs: 10_000 }], [{ output: 'beacon', when: when('red') }]);
    r.raise(AlarmLevel.Yellow);
    expect(r.switched('beacon')).toEqual([]);
    vi.advanceTimersByTime(1000);
    r.raise(AlarmLevel.Red);
    vi.advanceTimersByTime(2000);
    r.raise(AlarmLevel.Normal);
    expect(r.sim('beacon').state).toBe(true);
    vi.advanceTimersByTime(7999);
    expect(r.sim('beacon').state).toBe(true);
    vi.advanceTimersByTime(1);
    expect(r.switched('beacon')).toEqual([
      [1000, true],
      [11_000, false],
    ]);
    expect(r.store.recentOutputLog(2).map((e) => [e.on, e.backend, e.reason])).toEqual([
      [false, 'simulated', 'minimum on-time over'],
      [true, 'simulated', `${ID} active_unacked red (I)`],
    ]);
  });

  it('latching: stays on after the condition clears until the alarm is acknowledged', () => {
    const r = rig([{ name: 'relay', gpio: { pin: 5 }, mode: 'latching' }], [{ output: 'relay', when: { alarm: 'flood-1/*', level: 'orange' } }]);
    r.raise(AlarmLevel.Red);
    vi.advanceTimersByTime(1000);
    r.m.ack(ID, 'op');
    vi.advanceTimersByTime(1000);
    r.raise(AlarmLevel.Normal); // active_acked → normal: reset
    vi.advanceTimersByTime(1000);
    r.raise(AlarmLevel.Orange);
    vi.advanceTimersByTime(1000);
    r.raise(AlarmLevel.Normal); // cleared_unacked: still latched
    vi.advanceTimersByTime(5000);
    expect(r.sim('relay').state).toBe(true);
    r.m.ack(ID, 'op');
    expect(r.switched('relay')).toEqual([
      [0, true],
      [2000, false],
      [3000, true],
      [9000, false],
    ]);
  });

  it('momentary: one pulse each time an alarm reaches the level', () => {
    const r = rig([{ name: 'siren', gpio: { pin: 27 }, mode: 'momentary', pulseMs: 5000 }], [{ output: 'siren', when: when('red') }]);
    r.raise(AlarmLevel.Red);
    vi.advanceTimersByTime(20_000);
    r.raise(AlarmLevel.Orange);
    vi.advanceTimersByTime(1000);
    r.raise(AlarmLevel.Red);
    vi.advanceTimersByTime(10_000);
    expect(r.switched('siren')).toEqual([
      [0, true],
      [5000, false],
      [21_000, true],
      [26_000, false],
    ]);
  });

  it('a shelved alarm switches nothing; a chattering (suppressed) one still does', () => {
    const r = rig([{ name: 'beacon', gpio: { pin: 17 } }], [{ output: 'beacon', when: when('red') }]);
    r.raise(AlarmLevel.Red);
    vi.advanceTimersByTime(1000);
    r.m.shelve(ID, Date.now() + 3600_000, 'op');
    expect(r.sim('beacon').state).toBe(false);
    r.m.unshelve(ID, 'op');
    expect(r.sim('beacon').state).toBe(true);
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(1000);
      r.raise(AlarmLevel.Normal);
      vi.advanceTimersByTime(1000);
      r.raise(AlarmLevel.Red);
    }
    expect(r.m.get(ID)!.state).toBe('suppressed');
    expect(r.switched('beacon').map(([, on]) => on)).toEqual([true, false, true, false, true, false, true, false, true, false, true]);
  });

  it('test mode records the decision without a real backend', () => {
    const r = rig([{ name: 'siren', gpio: { pin: 27 }, test: true }], [{ output: 'siren', when: when('red') }]);
    r.raise(AlarmLevel.Red);
    expect(r.sim('siren').kind).toBe('test');
    expect(r.switched('siren')).toEqual([[0, true]]);
    expect(r.engine.status()[0]).toMatchObject({ name: 'siren', backend: 'test', on: true });
  });

  it('a lamp test switches an output on for the given time', () => {
    const r = rig([{ name: 'beacon', gpio: { pin: 17 } }], []);
    r.engine.test('beacon', 3000, 'tech');
    vi.advanceTimersByTime(3000);
    expect(r.switched('beacon')).toEqual([
      [0, true],
      [3000, false],
    ]);
    expect(r.store.recentOutputLog(2).map((e) => e.reason)).toEqual(['test over', 'test by tech for 3s']);
  });

  it('sets the fail-safe state when the agent stops', async () => {
    const r = rig(
      [
        { name: 'beacon', gpio: { pin: 17 }, failSafe: 'on' },
        { name: 'pump', gpio: { pin: 18 } },
      ],
      [{ output: 'pump', when: when('yellow') }],
      { keep: true },
    );
    r.raise(AlarmLevel.Red);
    // First start, no saved state: the beacon starts in its fail-safe state (on) and the alarms say off.
    expect(r.switched('beacon')).toEqual([[0, false]]);
    await r.engine.stop();
    expect(r.sim('beacon').state).toBe(true);
    expect(r.sim('pump').state).toBe(false);
    expect(r.store.recentOutputLog(2).map((e) => [e.output, e.on, e.reason])).toEqual([
      ['pump', false, 'agent stopping: fail-safe state'],
      ['beacon', true, 'agent stopping: fail-safe state'],
    ]);
    r.buffer.close();
  });
});

describe('Modbus outputs', () => {
  it('write through the PointWriter and retry a failed write until the device confirms it', async () => {
    const writes: [string, string, number][] = [];
    let failures = 1;
    const writer: PointWriter = {
      writePoint: async (device, point, value) => {
        writes.push([device, point, value]);
        if (failures-- > 0) throw new Error('timeout');
      },
      close: async () => {},
    };
    const r = rig([{ name: 'lamp', modbus: { device: 'lamp-1', point: 'lamp_on', on: 1, off: 0 } }], [{ output: 'lamp', when: when('orange') }], { writer });
    r.raise(AlarmLevel.Red);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.engine.status()[0]).toMatchObject({ on: true, pending: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.engine.status()[0]).toMatchObject({ on: true, pending: false });
    r.raise(AlarmLevel.Normal);
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([
      ['lamp-1', 'lamp_on', 1],
      ['lamp-1', 'lamp_on', 1],
      ['lamp-1', 'lamp_on', 0],
    ]);
    expect(r.store.loadOutputs()[0]).toMatchObject({ on: false, pending: false });
  });
});

describe('pending actions survive a crash', () => {
  it('a pulse and a minimum on-time in progress resume after a restart without an agent stop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-actions-'));
    try {
      const path = join(dir, 'edge.db');
      const outputs: OutputConfig[] = [
        { name: 'siren', gpio: { pin: 27 }, mode: 'momentary', pulseMs: 30_000 },
        { name: 'beacon', gpio: { pin: 17 }, minOnMs: 60_000 },
      ];
      const actions: ActionConfig[] = [
        { output: 'siren', when: when('red') },
        { output: 'beacon', when: when('red') },
      ];
      const a = rig(outputs, actions, { path, keep: true });
      a.raise(AlarmLevel.Red);
      vi.advanceTimersByTime(5000);
      a.raise(AlarmLevel.Normal);
      // Crash: no stop, no fail-safe; timers die with the process.
      a.buffer.close();
      vi.clearAllTimers();

      vi.advanceTimersByTime(5000);
      const b = rig(outputs, actions, { path });
      // Opened in the saved state, both on; nothing switched at start.
      expect(b.sim('siren').state).toBe(true);
      expect(b.sim('beacon').state).toBe(true);
      expect(b.switched('siren')).toEqual([]);
      vi.advanceTimersByTime(60_000);
      expect(b.switched('siren')).toEqual([[30_000, false]]);
      expect(b.switched('beacon')).toEqual([[60_000, false]]);
      // The alarm that armed the siren does not pulse it again after the restart.
      expect(b.store.loadOutputs().find((o) => o.name === 'siren')).toMatchObject({ on: false, armed: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GPIO backend', () => {
  it('drives the line through onoff, inverted when active-low, opened at the initial state', () => {
    const lines: { pin: number; dir: string; writes: number[] }[] = [];
    const FakeGpio = class {
      writes: number[] = [];
      constructor(
        readonly pin: number,
        readonly dir: string,
      ) {
        lines.push(this as unknown as { pin: number; dir: string; writes: number[] });
      }
      writeSync(v: 0 | 1) {
        this.writes.push(v);
      }
    } as unknown as GpioClass;
    const normal = new GpioOutput(FakeGpio, 17, false, true);
    const inverted = new GpioOutput(FakeGpio, 18, true, false);
    normal.set(false);
    inverted.set(true);
    expect(lines).toEqual([
      { pin: 17, dir: 'high', writes: [0] },
      { pin: 18, dir: 'high', writes: [0] },
    ]);
  });

  it('reports clearly why GPIO cannot be used on a machine without sysfs GPIO', () => {
    const a = gpioAvailability();
    if (existsSync('/sys/class/gpio/export')) return; // a real board: nothing to report
    expect(a.ok).toBe(false);
    expect(!a.ok && a.reason).toMatch(/GPIO/);
  });
});
