import { describe, expect, it } from 'vitest';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import type { ModbusRequest } from '@lifeline/shared/protocols';
import { bridgeBurst } from '@lifeline/devices';
import { ModalAnalyzer } from '../detect/modal.js';
import type { FrameDone, ModbusLink } from '../links/link.js';
import { burstReadings, readBurst } from './burst.js';

/** A link whose device holds `regs` (int16) and answers FC3 reads from them; counts the requests. */
function fakeLink(regs: Int16Array, failAt?: number): ModbusLink & { requests: ModbusRequest[] } {
  const requests: ModbusRequest[] = [];
  return {
    kind: 'tcp',
    where: 'fake',
    isUp: true,
    requests,
    submit(_unit: number, req: ModbusRequest, done: FrameDone) {
      requests.push({ ...req });
      if (req.functionCode !== 3) throw new Error('only FC3 here');
      if (req.address === failAt) {
        done(new LifelineError(ErrorCodes.DeviceTimeout, 'no reply within 300 ms'), new Uint8Array(0), 0, 0);
        return;
      }
      const pdu = new Uint8Array(2 + 2 * req.quantity);
      pdu[0] = 3;
      pdu[1] = 2 * req.quantity;
      for (let i = 0; i < req.quantity; i++) {
        const v = regs[req.address + i] & 0xffff;
        pdu[2 + 2 * i] = v >> 8;
        pdu[3 + 2 * i] = v & 0xff;
      }
      setImmediate(() => done(null, pdu, 0, pdu.length));
    },
    drop() {},
    close: async () => {},
  };
}

describe('bridge bursts over Modbus', () => {
  const scale = 0.0001; // m/s2 per LSB
  const burst = bridgeBurst({ modes: [{ frequencyHz: 2.35 }, { frequencyHz: 7.9, rms: 0.006 }], temperatureC: 20, seed: 3 });
  const regs = Int16Array.from(burst.samples, (v) => Math.round(v / scale));

  it('reads a 6,000-sample block in 48 pages of at most 125 registers and scales int16 samples, negatives included', async () => {
    const link = fakeLink(regs);
    const x = await readBurst(link, { unit: 1, address: 0, samples: 6000, scale });
    expect(link.requests).toHaveLength(48);
    expect(link.requests.every((r) => r.functionCode === 3 && 'quantity' in r && r.quantity <= 125)).toBe(true);
    expect(link.requests.at(-1)).toEqual({ functionCode: 3, address: 5875, quantity: 125 });
    for (let i = 0; i < 6000; i++) expect(Math.abs(x[i] - burst.samples[i])).toBeLessThanOrEqual(scale / 2 + 1e-12);
    expect([...x].some((v) => v < 0)).toBe(true);
  });

  it('reduces the burst to RMS, peak and natural frequencies as readings of the device', async () => {
    const x = await readBurst(fakeLink(regs), { unit: 1, address: 0, samples: 6000, scale });
    const readings = burstReadings('bridge-1', 1000, x, new ModalAnalyzer({ sampleRateHz: 100, modes: 2 }));
    expect(readings.map((r) => r.point)).toEqual(['acceleration_rms', 'acceleration_peak', 'natural_frequency_1', 'natural_frequency_2']);
    expect(Math.abs(readings[2].value / 2.35 / (burst.frequencies[0] / 2.35) - 1)).toBeLessThan(0.02);
    expect(readings[0].value).toBeGreaterThan(0.009);
    expect(readings[1].value).toBeGreaterThan(readings[0].value);
  });

  it('fails with the link’s error naming the page, and refuses a block past register 65535', async () => {
    await expect(readBurst(fakeLink(regs, 250), { unit: 1, address: 0, samples: 6000, scale })).rejects.toThrow(
      /burst page at register 250 \(125 registers\): .*no reply within 300 ms/,
    );
    await expect(readBurst(fakeLink(regs), { unit: 1, address: 60000, samples: 6000, scale })).rejects.toThrow(/registers 60000\.\.65999 run past 65535/);
  });
});
