/**
 * Polls the Modbus devices of one bus. One BusPoller per bus; its link decides
 * how requests share the wire (pipelined on TCP, one at a time and
 * round-robin across units on RTU). The poll state machine (the clock,
 * retries, comm loss and probes of dead slaves, the readings batch) is
 * DevicePoller's (device-poller.ts), the same as MeterPoller's; this file
 * plans the read blocks, sends them and decodes their registers.
 *
 *   clock tick ─▶ every block of the device's read plan ─submit─▶ link
 *                                                             │ done(frame range)
 *                                   registers copied into the block's own array (+ arrival time)
 *                                                             │ last block in
 *   bus.emit('readings') ◀─ decodeBlock, every block ◀───────┘
 *
 * The hot path allocates per poll, not per request: the readings array and
 * the readings themselves. Request objects, register arrays and callbacks are
 * made once per block when the poller starts; a reply's registers are copied
 * out of the link's buffer into the block's array and decoded only when the
 * poll is complete (why: device-poller.ts).
 */
import type { Reading } from '@lifeline/shared';
import type { ModbusRequest } from '@lifeline/shared/protocols';
import { isModbusProfile, type Profile, type RegisterTable } from '@lifeline/devices';
import type { DeviceInstance } from '../config/schema.js';
import { copyBits, copyRegisters, createLink, type FrameDone, type LinkHooks, type ModbusLink } from '../links/index.js';
import { planReads, type ReadBlock } from './plan.js';
import { decodeBlock } from './decode.js';
import { DevicePoller, Outcome, type PolledDevice, type PolledRead, type PollTuning } from './device-poller.js';

export { probeInterval, type DevicePollStats } from './device-poller.js';

const FUNCTION_OF: Record<RegisterTable, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

interface BlockState extends PolledRead {
  readonly block: ReadBlock;
  readonly req: ModbusRequest & { quantity: number };
  /** The block's registers (or bits as 0/1) from the last reply. */
  readonly words: Uint16Array;
  readonly done: FrameDone;
}

type PolledUnit = PolledDevice<BlockState, number>;

/** Tuning of a BusPoller (defaults suit a field bus). */
export interface PollerOptions extends PollTuning {
  /** Make the link instead of creating one from the bus config (tests, benchmarks); wire `hooks` to it. */
  link?: (hooks: LinkHooks) => ModbusLink;
}

/** Polls the devices of one bus. */
export class BusPoller extends DevicePoller<BlockState, number, ModbusLink> {
  /** The bus's link once started: writes to its devices go through it (one request in flight on a serial bus). */
  get busLink(): ModbusLink | undefined {
    return this.link;
  }

  protected openLink(hooks: LinkHooks): ModbusLink {
    return this.opts.link ? this.opts.link(hooks) : createLink(this.bus, hooks);
  }

  protected keyOf(instance: DeviceInstance, profile: Readonly<Profile>): number | undefined {
    // The config loader refuses both; a poller built by hand gets a warning instead of a crash.
    if (!isModbusProfile(profile) || instance.unit === undefined) {
      this.log.warn({ device: instance.id, protocol: profile.protocol }, 'not a Modbus device with a unit id (meters are polled on a meter bus); device skipped');
      return undefined;
    }
    return instance.unit;
  }

  protected plan(d: PolledUnit, profile: Readonly<Profile>): void {
    if (!isModbusProfile(profile)) return;
    for (const block of planReads(profile)) {
      const bits = block.table === 'coil' || block.table === 'discrete';
      const req = { functionCode: FUNCTION_OF[block.table], address: block.start, quantity: block.count };
      const words = new Uint16Array(block.count);
      const b: BlockState = {
        block,
        points: block.points.map((p) => p.point),
        req,
        words,
        attempt: 0,
        outcome: Outcome.Pending,
        ts: 0,
        done: (err, frame, pduStart) => {
          if (err === null) {
            if (bits) copyBits(frame, pduStart, block.count, words);
            else copyRegisters(frame, pduStart, block.count, words);
          }
          this.settle(d, b, err);
        },
      };
      d.reads.push(b);
    }
  }

  protected send(d: PolledUnit, b: BlockState): void {
    this.link!.submit(d.key, b.req, b.done);
  }

  protected readingsOf(d: PolledUnit, b: BlockState, out: Reading[]): void {
    decodeBlock(d.id, b.block, b.words, b.ts, out);
  }
}
