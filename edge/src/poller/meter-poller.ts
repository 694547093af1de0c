/**
 * Polls the DL/T 645 or CJ/T 188 meters of one meter bus. The poll state
 * machine (clock, retries, comm loss, probes, the readings batch) is
 * DevicePoller's, the same as BusPoller's, so detectors, buffer and sync see
 * meters as they see Modbus devices; this file only sends meter reads and
 * turns their replies into readings.
 *
 *   clock tick ─▶ every read of the meter's plan (meter-plan.ts) ─submit─▶ MeterLink (one in flight per bus)
 *                                                                        │ done(reply frame)
 *                          MeterRead.decode: values kept on the read ◀───┘ (an error reply: Refused)
 *                                                                        │ last read in
 *   bus.emit('readings') ◀─ readings of every read ◀─────────────────────┘
 *
 * A reply is decoded as it arrives, because decoding says whether it is good:
 * an error reply (DL/T 645 0xD1, CJ/T 188 abnormal) means the meter is alive
 * but has no value (its points Bad, no retry); a malformed one is retried
 * like a garbled frame. The readings are made when the poll is complete.
 */
import { Quality, type LifelineError, type Reading } from '@lifeline/shared';
import type { MeterProfile, Profile } from '@lifeline/devices';
import type { DeviceInstance } from '../config/schema.js';
import { createMeterLink, type LinkHooks, type MeterDone, type MeterLink, type MeterProtocol } from '../links/index.js';
import { planMeterReads, type MeterPointValue, type MeterRead } from './meter-plan.js';
import { DevicePoller, Outcome, type PolledDevice, type PolledRead, type PollTuning } from './device-poller.js';

interface MeterReadState extends PolledRead {
  readonly read: MeterRead;
  readonly done: MeterDone;
  /** Point values of the last good reply. */
  values: MeterPointValue[];
  /** The last "no value for a point" warning logged for this read (each different one is logged once). */
  lastNote: string;
}

type PolledMeter = PolledDevice<MeterReadState, string>;

/** Tuning of a MeterPoller: BusPoller's, with a meter link in place of a Modbus one. */
export interface MeterPollerOptions extends PollTuning {
  /** Make the link instead of creating one from the bus config (tests); wire `hooks` to it. */
  link?: (hooks: LinkHooks) => MeterLink;
}

/** Polls the meters of one bus (link meter or meter-over-tcp). */
export class MeterPoller extends DevicePoller<MeterReadState, string, MeterLink> {
  private protocol: MeterProtocol = 'dlt645';

  protected openLink(hooks: LinkHooks): MeterLink {
    const first = this.profiles.get(this.bus.devices[0]?.id ?? '');
    if (!first || (first.protocol !== 'dlt645' && first.protocol !== 'cjt188')) throw new Error(`bus ${this.bus.name}: a meter bus needs meter profiles (dlt645 or cjt188)`);
    this.protocol = first.protocol;
    return this.opts.link ? this.opts.link(hooks) : createMeterLink(this.bus, this.protocol, first, hooks);
  }

  protected keyOf(instance: DeviceInstance, profile: Readonly<Profile>): string | undefined {
    // The config loader refuses these; a poller built by hand gets a warning instead of a crash.
    if (profile.protocol !== this.protocol || instance.address === undefined) {
      this.log.warn({ device: instance.id, protocol: profile.protocol }, `not a ${this.protocol} meter with an address; device skipped`);
      return undefined;
    }
    return instance.address;
  }

  protected plan(m: PolledMeter, profile: Readonly<Profile>): void {
    for (const read of planMeterReads(profile as Readonly<MeterProfile>, m.key, { gapMs: m.instance.gapMs })) {
      const s: MeterReadState = {
        read,
        points: read.points,
        attempt: 0,
        outcome: Outcome.Pending,
        ts: 0,
        values: [],
        lastNote: '',
        done: (err, reply) => this.settle(m, s, err ?? this.decode(m, s, reply)),
      };
      m.reads.push(s);
    }
  }

  protected send(_m: PolledMeter, s: MeterReadState): void {
    this.link!.submit(s.read.req, s.done);
  }

  /** Keep the values of a reply; null, or what the decoder threw (FRAME_INVALID, DEVICE_EXCEPTION). */
  private decode(m: PolledMeter, s: MeterReadState, reply: Uint8Array): LifelineError | null {
    try {
      s.values = s.read.decode(reply);
    } catch (e) {
      return e as LifelineError;
    }
    let note = '';
    for (const v of s.values) if (v.quality === Quality.Bad) note += `${v.point.name}: ${v.note}; `;
    if (note !== s.lastNote) {
      s.lastNote = note;
      if (note) this.log.warn({ device: m.id, why: note.slice(0, -2) }, 'meter gave no value for a point');
    }
    return null;
  }

  protected readingsOf(m: PolledMeter, s: MeterReadState, out: Reading[]): void {
    const ts = s.ts;
    for (const v of s.values) {
      out.push(v.quality === undefined ? { device: m.id, point: v.point.name, ts, value: v.value } : { device: m.id, point: v.point.name, ts, value: v.value, quality: v.quality });
    }
  }
}
