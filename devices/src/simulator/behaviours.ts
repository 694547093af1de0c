/**
 * Behaviours: small handlers that make a simulated device misbehave (after
 * zwave-js's MockNodeBehavior). A device keeps a list; each handler may hook
 * one or more moments of a request:
 *
 *   request ─▶ onRequest?  (silence, exception, disconnect: first answer wins)
 *           ─▶ values refreshed ─▶ transformValue? (fixed, frozen, spike)
 *           ─▶ reply built ─▶ transformReply? (CRC / checksum error)
 *           ─▶ delayMs? (slow turnaround) ─▶ wire
 *
 * Tests inject a ready-made one by spec (`dev.inject({ kind: 'crc' })`) or
 * write their own object with any of the hooks.
 */
import type { AnyPoint, RegisterTable } from '../profile.js';

/** What a device was asked, as far as behaviours care. */
export interface SimRequest {
  /** Protocol of the request. */
  protocol: 'modbus' | 'dlt645' | 'cjt188';
  /** Modbus function code, or the meter control code. */
  functionCode: number;
  /** Modbus table read or written (undefined for meters and unknown functions). */
  table: RegisterTable | undefined;
  /** First address (Modbus), 0 for meters. */
  address: number;
  /** Registers or bits (Modbus), 0 for meters. */
  quantity: number;
}

/** How a behaviour overrides the normal answer. */
export type SimAction =
  /** Say nothing (the master times out). */
  | { kind: 'silent' }
  /** Answer with an exception (Modbus exception code; DL/T 645 error byte; CJ/T 188 status byte ST1). */
  | { kind: 'exception'; code: number }
  /** Drop the connection (TCP) or the serial port (pty) for `forMs` (until cleared when absent). */
  | { kind: 'disconnect'; forMs?: number };

/** How the reply is framed on the wire, so a reply hook knows where its check bytes are. */
export type SimFraming = 'mbap' | 'rtu' | 'dlt645' | 'cjt188';

/** A small handler that changes how a device answers. Every hook is optional. */
export interface Behaviour {
  /** Name for logs and for `clear(kind)`. */
  readonly kind: string;
  /** The point it acts on, for point behaviours. */
  readonly point?: string;
  /** Called per request; an action overrides the normal answer. */
  onRequest?(req: SimRequest): SimAction | undefined;
  /** Called per point at each refresh with the signal's value; returns the value to serve. */
  transformValue?(point: AnyPoint, value: number): number;
  /** Called with the reply frame in `buf[start, end)`; may change bytes in place. */
  transformReply?(buf: Uint8Array, start: number, end: number, framing: SimFraming): void;
  /** Extra delay before the reply starts, ms. */
  delayMs?(req: SimRequest): number;
  /** How long it lasts from injection, ms (the device then removes it); undefined: until cleared. */
  readonly forMs?: number;
  /** Set by a behaviour that has run its course; the device then drops it. */
  done?: boolean;
}

/** The ready-made behaviours, as plain data (what tests and `lifeline simulate --fault` inject). */
export type BehaviourSpec =
  /** Stop answering (a dead slave), or miss a share of requests (a flaky one). */
  | { kind: 'silent'; probability?: number }
  /** Answer with this exception code (Modbus exception; DL/T 645 error byte; CJ/T 188 ST1). */
  | { kind: 'exception'; code: number; probability?: number }
  /** Corrupt the CRC (RTU) or checksum (meters) of replies; no effect on Modbus TCP, whose transport has its own. */
  | { kind: 'crc'; probability?: number }
  /** Delay every reply by this many ms (slow turnaround). */
  | { kind: 'slow'; delayMs: number }
  /** Keep the point at this value (in its unit). */
  | { kind: 'fixed'; point: string; value: number }
  /** Freeze the point at its current value (a stuck sensor). */
  | { kind: 'frozen'; point: string }
  /** Serve `value` for the point for the next `count` refreshes (default 1), then the signal again. */
  | { kind: 'spike'; point: string; value: number; count?: number }
  /** Drop the link: TCP connections are closed and refused, a pty disappears; back after `forMs`, or when cleared. */
  | { kind: 'disconnect'; forMs?: number };

/** Builds the handler for a spec. `rand` is the device's seeded random source. */
export function behaviourFrom(spec: BehaviourSpec, rand: () => number): Behaviour {
  const hit = (p: number | undefined) => p === undefined || p >= 1 || rand() < p;
  switch (spec.kind) {
    case 'silent':
      return { kind: 'silent', onRequest: () => (hit(spec.probability) ? SILENT : undefined) };
    case 'exception': {
      const action: SimAction = { kind: 'exception', code: spec.code };
      return { kind: 'exception', onRequest: () => (hit(spec.probability) ? action : undefined) };
    }
    case 'crc':
      return {
        kind: 'crc',
        transformReply(buf, start, end, framing) {
          if (framing === 'mbap' || end - start < 3 || !hit(spec.probability)) return;
          // RTU: the CRC's high byte is last; meters: the checksum sits before the 0x16 terminator.
          buf[framing === 'rtu' ? end - 1 : end - 2] ^= 0x5a;
        },
      };
    case 'slow':
      return { kind: 'slow', delayMs: () => spec.delayMs };
    case 'fixed':
      return { kind: 'fixed', point: spec.point, transformValue: (p, v) => (p.name === spec.point ? spec.value : v) };
    case 'frozen': {
      let held: number | undefined;
      return {
        kind: 'frozen',
        point: spec.point,
        transformValue(p, v) {
          if (p.name !== spec.point) return v;
          held ??= v;
          return held;
        },
      };
    }
    case 'spike': {
      let left = spec.count ?? 1;
      const b: Behaviour = {
        kind: 'spike',
        point: spec.point,
        transformValue(p, v) {
          if (p.name !== spec.point || left <= 0) return v;
          if (--left === 0) b.done = true;
          return spec.value;
        },
      };
      return b;
    }
    case 'disconnect': {
      const action: SimAction = { kind: 'disconnect', forMs: spec.forMs };
      return { kind: 'disconnect', forMs: spec.forMs, onRequest: () => action };
    }
    default:
      throw new Error(`behaviour ${JSON.stringify((spec as { kind?: unknown }).kind)}: not a ready-made kind and no hook (onRequest, transformValue, transformReply, delayMs)`);
  }
}

const SILENT: SimAction = { kind: 'silent' };

/**
 * Parses the technician's `--fault` syntax: `kind[:key=value,...]`, e.g.
 * `silent`, `silent:probability=0.1`, `exception:code=4`, `slow:delayMs=300`,
 * `crc:probability=0.5`, `frozen:point=pressure`, `spike:point=pressure,value=1.5,count=3`,
 * `fixed:point=water_level,value=3.2`, `disconnect:forMs=5000`.
 */
export function parseBehaviourSpec(text: string): BehaviourSpec {
  const [kind, rest = ''] = text.split(/:(.*)/s, 2);
  const args: Record<string, string> = {};
  for (const pair of rest.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`fault ${JSON.stringify(text)}: expected key=value, got ${JSON.stringify(pair)}`);
    args[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const num = (key: string, required: boolean): number | undefined => {
    const v = args[key];
    if (v === undefined) {
      if (required) throw new Error(`fault ${JSON.stringify(text)}: ${kind} needs ${key}=<number>`);
      return undefined;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`fault ${JSON.stringify(text)}: ${key} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const point = (): string => {
    if (!args.point) throw new Error(`fault ${JSON.stringify(text)}: ${kind} needs point=<name>`);
    return args.point;
  };
  switch (kind) {
    case 'silent':
      return { kind, probability: num('probability', false) };
    case 'exception':
      return { kind, code: num('code', true)!, probability: num('probability', false) };
    case 'crc':
      return { kind, probability: num('probability', false) };
    case 'slow':
      return { kind, delayMs: num('delayMs', true)! };
    case 'fixed':
      return { kind, point: point(), value: num('value', true)! };
    case 'frozen':
      return { kind, point: point() };
    case 'spike':
      return { kind, point: point(), value: num('value', true)!, count: num('count', false) };
    case 'disconnect':
      return { kind, forMs: num('forMs', false) };
    default:
      throw new Error(
        `fault ${JSON.stringify(text)}: unknown kind ${JSON.stringify(kind)} (silent, exception, crc, slow, fixed, frozen, spike, disconnect)`,
      );
  }
}
