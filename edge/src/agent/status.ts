/**
 * What `lifeline status` shows: a snapshot of the running agent, answered on the
 * control socket (`{"op":"status"}`).
 *
 *   Agent ─status()─▶ buses + devices (poller stats, Recorder's last good read)
 *                     buffer backlog (depth, age), sync (connected, unacked, last ack)
 *                     config (file, hash), active alarms (AlarmManager), process memory
 */
import type { AlarmRecord } from '../alarms/types.js';
import type { DiskState } from '../buffer/buffer.js';

/** One device as the agent sees it. */
export interface DeviceStatus {
  id: string;
  profile: string;
  /** Answering at its last poll (null: not polled yet, or a listener that is not polled). */
  online: boolean | null;
  /** Sample time of its last Good reading, epoch ms (null: none since the agent started). */
  lastGoodTs: number | null;
  /** Polls answered (at least one read) since start. */
  polls: number;
  /** Consecutive polls without any reply, now. */
  failures: number;
  /** Polls without any reply since start (meters and Modbus; 0 for a listener). */
  failedPolls?: number;
  /** How long its last poll took, ms (comm latency: requests to the last reply). */
  lastPollMs?: number;
  lastError: string;
  /** Its latest value per point: value null when the reading was not Good (quality then says which). */
  values?: { point: string; value: number | null; ts: number; quality?: number }[];
}

/** One bus and its devices. */
export interface BusStatus {
  name: string;
  /** tcp, rtu, rtu-over-tcp, sl651…: the bus's `link`. */
  link: string;
  devices: DeviceStatus[];
}

/** The whole snapshot. */
export interface AgentStatus {
  gateway: string;
  pid: number;
  startedAt: number;
  now: number;
  config: { file: string | null; hash: string | null };
  buses: BusStatus[];
  buffer: {
    path: string;
    telemetry: { depth: number; oldestTs: number | null };
    events: { depth: number; oldestTs: number | null };
    diskBytes: number;
    /** The buffer runs in memory: its file's file system was read-only when the agent started. Absent from older agents. */
    inMemory?: boolean;
    /** The disk's condition (buffer/disk-guard.ts): full or failing since when, why, readings dropped. Absent from older agents. */
    disk?: DiskState;
  };
  sync: {
    url: string;
    connected: boolean;
    error: string | null;
    unacked: { telemetry: number; events: number };
    lastAckAt: number | null;
    clockOffsetMs: number | null;
  };
  /** Alarms that are not normal, as the manager holds them. */
  alarms: AlarmRecord[];
  /** The agent process's memory (process.memoryUsage()), bytes: what a soak test watches for growth. */
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}
