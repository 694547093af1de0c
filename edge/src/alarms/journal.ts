/**
 * Where the alarm manager's transitions go, and how they come back after a restart:
 * each is recorded in the buffer's file (alarm record + alarm_log row, through the
 * AlarmStore) and queued on the event lane for the cloud, its seq written in the log.
 *
 *   commit ─▶ entry (seq it will get) ─▶ record: store.later(saveAlarm, appendLog) ─▶ event lane
 *                                                         (held to the end of a batch)
 *   start  ─▶ loadAlarms ─▶ requeueUnsent: log rows above the lane's last seq (a crash
 *             between record and queue) are queued now, once
 */
import type { AlarmTransition } from '@lifeline/shared';
import type { EdgeBuffer } from '../buffer/buffer.js';
import type { Logger } from '../log.js';
import type { AlarmStore } from './store.js';
import type { AlarmLogEntry, AlarmRecord } from './types.js';

/** Where transitions go for the cloud: the buffer's event lane. */
export interface EventSink {
  /** The seq the next appended event will get. */
  nextSeq(): number;
  /** Queues one alarm transition; returns its seq. */
  append(ts: number, body: Omit<AlarmTransition, 'seq'>): number;
}

/** The event lane of an EdgeBuffer as an EventSink. */
export function bufferSink(buffer: EdgeBuffer): EventSink {
  return {
    nextSeq: () => buffer.lastWritten('events') + 1,
    append: (ts, body) => buffer.appendEvent(ts, 'alarm', body),
  };
}

/** What one transition says besides the record: its value, the operator, whether it stays local. */
export interface EntryDetails {
  /** Kept local (the condition underneath a shelved or suppressed alarm): not sent to the cloud. */
  quiet?: boolean;
  user?: string;
  value: number | null;
}

const CAUSE_MAX = 4096;
const NAME_MAX = 128;

/** The alarm records and transition log of one gateway, in its buffer's file and event lane. */
export class AlarmJournal {
  private batching = false;
  /** Transitions recorded (or about to be) and not yet queued for the cloud. */
  private unqueued: AlarmLogEntry[] = [];

  constructor(
    private readonly store: AlarmStore,
    private readonly sink: EventSink,
    private readonly log?: Logger,
  ) {}

  /** Every alarm record as last saved. */
  loadAlarms(): AlarmRecord[] {
    return this.store.loadAlarms();
  }

  /** Queues the transitions that were recorded but not yet queued when the process died. */
  requeueUnsent(): void {
    const { store, sink } = this;
    for (const e of store.logAfterSeq(sink.nextSeq() - 1)) {
      const seq = sink.append(e.ts, wireBody(e));
      if (seq !== e.eventSeq) store.setLogSeq(e.id!, seq);
      this.log?.warn({ alarm: e.alarmId, seq }, 'queued an alarm transition recorded before a crash');
    }
  }

  /** The log entry of a transition of `rec` (already changed) from `from`, with the seq it will be queued under. */
  entry(rec: Readonly<AlarmRecord>, from: AlarmLogEntry['from'], ts: number, cause: string, o: EntryDetails): AlarmLogEntry {
    return {
      ts,
      alarmId: rec.id,
      device: rec.device,
      point: rec.point,
      detector: rec.detector,
      from,
      to: rec.state,
      level: rec.level,
      value: o.value,
      cause: cause.length > CAUSE_MAX ? `${cause.slice(0, CAUSE_MAX - 1)}…` : cause,
      ...(o.user === undefined ? {} : { user: o.user.slice(0, NAME_MAX) }),
      // The seq it will get: the lane's next, after those waiting before it.
      eventSeq: o.quiet ? null : this.sink.nextSeq() + this.unqueued.length,
    };
  }

  /** Records `rec` and its entry (at the end of the batch, if one runs), then queues the entry unless quiet. */
  record(rec: Readonly<AlarmRecord>, entry: AlarmLogEntry, quiet: boolean | undefined): void {
    const { store } = this;
    const saved = { ...rec, raises: [...rec.raises] };
    store.later(() => {
      store.saveAlarm(saved);
      entry.id = store.appendLog(entry);
    });
    if (!quiet) this.unqueued.push(entry);
    if (!this.batching) this.queueEvents();
  }

  /** Runs `fn` with every disk write held back to one transaction, and the events queued once, at the end. */
  batch<T>(fn: () => T): T {
    const outer = this.store.beginBatch();
    if (!outer) return fn();
    this.batching = true;
    try {
      return fn();
    } finally {
      this.batching = false;
      this.store.endBatch();
      this.queueEvents();
    }
  }

  /** Queues recorded transitions on the event lane (each synced to disk). */
  private queueEvents(): void {
    const { store, sink } = this;
    const list = this.unqueued;
    this.unqueued = [];
    for (const entry of list) {
      const seq = sink.append(entry.ts, wireBody(entry));
      if (seq !== entry.eventSeq) {
        store.setLogSeq(entry.id!, seq);
        entry.eventSeq = seq;
      }
    }
  }
}

/** The event-lane body of a log entry (seq is added by sync). */
function wireBody(e: AlarmLogEntry): Omit<AlarmTransition, 'seq'> {
  return {
    kind: 'alarm',
    alarmId: e.alarmId,
    device: e.device,
    point: e.point,
    ts: e.ts,
    from: e.from,
    to: e.to,
    level: e.level,
    detector: e.detector,
    cause: e.cause,
    value: e.value,
    ...(e.user === undefined ? {} : { user: e.user }),
  };
}
