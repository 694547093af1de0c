/**
 * `lifeline scan --meters dlt645|cjt188`: list the meters on a meter bus by address reads.
 *
 *   read address to AAAAAAAAAAAA (every meter answers)
 *     ├─ silence            ─▶ no meter on this bus (or another line setting)
 *     ├─ one good reply     ─▶ that meter's address
 *     └─ garbled (collision: several meters answered at once)
 *          ─▶ fix the rightmost wildcard pair to 00..99 in turn and ask again (AAAAAAAAAA00, …01, …),
 *             going one pair further left under each pattern that still collides
 *
 * DL/T 645-2007: control 0x13 (read communication address), the address in the reply. CJ/T 188-2004:
 * control 0x03 with DI 810A (read address) to meter type AA (any type), the address and meter type in
 * the reply. Meters on one bus usually share their leading digits, so the search splits on the last
 * pair first; it stops at `maxRequests` and says so.
 */
import { ErrorCodes, LifelineError, isLifelineError } from '@lifeline/shared';
import { buildCjt188Frame, buildDlt645Frame, describeMeterType, parseCjt188Frame, parseDlt645Frame } from '@lifeline/shared/protocols';
import type { MeterLink } from '../links/meter.js';

/** A meter that answered its address read. */
export interface FoundMeter {
  protocol: 'dlt645' | 'cjt188';
  /** Address as printed on the meter. */
  address: string;
  /** CJ/T 188: meter type byte and its name (`0x10 cold water meter`). */
  meterType?: string;
  where: string;
}

/** Outcome of a meter search. */
export interface MeterSearch {
  found: FoundMeter[];
  /** Address reads sent. */
  requests: number;
  /** Patterns still colliding when `maxRequests` ran out (empty: the search is complete). */
  unresolved: string[];
}

/** The address-read frame to `pattern` (12 or 14 digits, AA pairs wildcards). */
export function addressRead(protocol: 'dlt645' | 'cjt188', pattern: string): { frame: Uint8Array; replyBytes: number } {
  if (protocol === 'dlt645') return { frame: buildDlt645Frame(pattern, 0x13, new Uint8Array(0)), replyBytes: 4 + 12 + 6 };
  return { frame: buildCjt188Frame(0xaa, pattern, 0x03, Uint8Array.of(0x0a, 0x81, 0)), replyBytes: 4 + 13 + 3 };
}

/** Search the bus behind `link` for meters; `progress` is told after each request. */
export async function findMeters(
  link: MeterLink,
  protocol: 'dlt645' | 'cjt188',
  opts: { maxRequests?: number; progress?: (requests: number, found: number) => void } = {},
): Promise<MeterSearch> {
  const digits = protocol === 'cjt188' ? 14 : 12;
  const maxRequests = opts.maxRequests ?? 2000;
  const found = new Map<string, FoundMeter>();
  const unresolved: string[] = [];
  let requests = 0;
  /** 'none' | 'collision' | the meter that answered. */
  const ask = async (pattern: string): Promise<'none' | 'collision' | FoundMeter> => {
    const { frame, replyBytes } = addressRead(protocol, pattern);
    requests++;
    try {
      const reply = await link.request({ address: pattern, frame, what: `read address ${pattern}`, replyBytes });
      if (protocol === 'dlt645') {
        const f = parseDlt645Frame(reply);
        return { protocol, address: f.address, where: link.where };
      }
      const f = parseCjt188Frame(reply);
      return { protocol, address: f.address, meterType: describeMeterType(f.meterType), where: link.where };
    } catch (err) {
      if (!isLifelineError(err)) throw err;
      if (err.code === ErrorCodes.DeviceTimeout) return 'none';
      // Two or more meters answering at once garble each other's frame (checksum, length, terminator).
      if (err.code === ErrorCodes.FrameInvalid) return 'collision';
      if (err.code === ErrorCodes.DeviceException) return 'collision';
      throw err;
    } finally {
      opts.progress?.(requests, found.size);
    }
  };
  const search = async (pattern: string): Promise<void> => {
    if (requests >= maxRequests) {
      unresolved.push(pattern);
      return;
    }
    const r = await ask(pattern);
    if (r === 'none') return;
    if (r !== 'collision') {
      found.set(r.address, r);
      return;
    }
    const at = pattern.lastIndexOf('AA', digits - 2);
    // No wildcard left: two meters share this address, or the line is too noisy to read.
    if (at < 0 || at % 2) {
      unresolved.push(pattern);
      return;
    }
    for (let n = 0; n < 100; n++) await search(pattern.slice(0, at) + String(n).padStart(2, '0') + pattern.slice(at + 2));
  };
  await search('AA'.repeat(digits / 2));
  return { found: [...found.values()].sort((a, b) => a.address.localeCompare(b.address)), requests, unresolved };
}

/** The error when a meter search found nothing: what was tried and the likely cause. */
export function noMeters(protocol: string, where: string): LifelineError {
  return new LifelineError(
    ErrorCodes.DeviceTimeout,
    `no ${protocol} meter answered an address read on ${where}; likely cause: wrong baud rate or parity (meters: usually 2400 8E1; try --baud auto), A/B wires swapped, or the meters are unpowered`,
  );
}
