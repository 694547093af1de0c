/**
 * The agent's typed event bus (zigbee2mqtt's shape): features talk through it,
 * and a listener that throws is logged and skipped, so a broken rule never
 * stalls polling.
 *
 *   BusPoller / MeterPoller ─emit('readings' | 'comm')─▶ EventBus ─▶ Detection (alarms)
 *                                                                 └─▶ Recorder (sync)
 *
 * It sits on the ground floor (scripts/floors.test.ts): every feature speaks
 * through it and implements its `Extension`, so it may import no feature.
 */
import type { Reading } from '@lifeline/shared';
import type { Logger } from '../log.js';

/** Everything the agent's features tell each other. */
export interface AgentEvents {
  /** A batch of decoded readings from one poll of one device. */
  readings: Reading[];
  /** A device stopped or resumed answering. */
  comm: { device: string; ok: boolean; error?: string; ts: number };
}

type Listener<T> = (payload: T) => void;

export class EventBus {
  private readonly listeners = new Map<keyof AgentEvents, Listener<never>[]>();
  constructor(private readonly log: Logger) {}

  on<K extends keyof AgentEvents>(event: K, listener: Listener<AgentEvents[K]>): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(event, list);
    return () => {
      const i = list.indexOf(listener as Listener<never>);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit<K extends keyof AgentEvents>(event: K, payload: AgentEvents[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const l of list) {
      try {
        (l as Listener<AgentEvents[K]>)(payload);
      } catch (err) {
        this.log.error({ err, event }, 'event listener failed; continuing');
      }
    }
  }
}

/** A feature of the agent: the constructor only stores collaborators. */
export interface Extension {
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}
