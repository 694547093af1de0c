/**
 * The commands concern of the cloud store: what was asked of a gateway over
 * the downlink and what it answered, and the configs those commands carry
 * (running, desired, last answer).
 */

/** What was asked of a gateway over the downlink, and what it answered. */
export interface CommandRecord {
  id: number;
  gateway: string;
  /** `alarm_ack`, `alarm_shelve`, `config`, … */
  type: string;
  /** Cloud alarm id for alarm commands. */
  alarm: number | null;
  body: Record<string, unknown>;
  requestedBy: string;
  requestedAt: number;
  /** `pending` until the gateway answers; then `done` or `failed`. */
  status: 'pending' | 'done' | 'failed';
  answer: Record<string, unknown> | null;
  answeredAt: number | null;
}

/** A gateway's configs: what it runs, what the cloud wants, and its last answer. */
export interface GatewayConfigState {
  gateway: string;
  running: unknown | null;
  runningTs: number | null;
  desired: unknown | null;
  desiredTs: number | null;
  desiredBy: string | null;
  /** The command that carried the desired config. */
  desiredCommand: number | null;
  answer: Record<string, unknown> | null;
  answerTs: number | null;
}

/** Downlink commands and gateway configs. */
export interface CommandStore {
  addCommand(c: Omit<CommandRecord, 'id' | 'status' | 'answer' | 'answeredAt'>): Promise<CommandRecord>;
  /** Record a gateway's answer; false if no such pending command. */
  answerCommand(id: number, ok: boolean, answer: Record<string, unknown>, at: number): Promise<boolean>;
  /** Newest first; `type` keeps one kind (the point-write audit lists `point_write`). */
  listCommands(q: { gateway?: string; alarm?: number; limit: number; type?: string }): Promise<CommandRecord[]>;
  getCommand(id: number): Promise<CommandRecord | undefined>;
  getConfig(gateway: string): Promise<GatewayConfigState>;
  setDesiredConfig(gateway: string, config: unknown, by: string, command: number, at: number): Promise<void>;
  setRunningConfig(gateway: string, config: unknown, at: number): Promise<void>;
  setConfigAnswer(gateway: string, answer: Record<string, unknown>, at: number): Promise<void>;
}
