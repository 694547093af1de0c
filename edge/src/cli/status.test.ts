import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../agent/status.js';
import { formatStatus } from './status.js';

const now = 1_796_680_000_000;
const snapshot = (disk?: AgentStatus['buffer']['disk']): AgentStatus => ({
  gateway: 'gw-1',
  pid: 1,
  startedAt: now - 60_000,
  now,
  config: { file: null, hash: null },
  buses: [],
  buffer: { path: '/var/lib/lifeline/lifeline.db', telemetry: { depth: 0, oldestTs: null }, events: { depth: 0, oldestTs: null }, diskBytes: 1e6, disk },
  sync: { url: 'mqtt://cloud', connected: true, error: null, unacked: { telemetry: 0, events: 0 }, lastAckAt: now - 1000, clockOffsetMs: 0 },
  alarms: [],
  memory: { rss: 1, heapUsed: 1, heapTotal: 1, external: 1, arrayBuffers: 1 },
});

describe('formatStatus', () => {
  it('shows a failing disk (a read-only file system looks like this) with its code and the readings lost', () => {
    const text = formatStatus(snapshot({ full: true, since: now - 20_000, lastError: 'SQLITE_IOERR_WRITE', errors: 9, droppedReadings: 114, reserve: false }));
    expect(text).toMatch(/^disk {5}FULL OR FAILING since .* \(20s ago\) \(SQLITE_IOERR_WRITE\) · 114 reading\(s\) could not be stored/m);
  });

  it('says when the buffer runs in memory because its card was read-only at start', () => {
    const s = snapshot({ full: true, since: Date.now(), lastError: 'EROFS', errors: 1, droppedReadings: 0, reserve: false });
    s.buffer.inMemory = true;
    expect(formatStatus(s)).toMatch(/^buffer .* MB IN MEMORY \(lost at a restart\): \/var\/lib\/lifeline\/lifeline\.db was read-only at start, its backlog waits for fsck$/m);
    expect(formatStatus(snapshot())).toMatch(/MB on disk \(\/var\/lib\/lifeline\/lifeline\.db\)$/m);
  });

  it('says when the buffer file was deleted under the running agent', () => {
    const text = formatStatus(snapshot({ full: false, since: null, lastError: null, errors: 0, droppedReadings: 0, reserve: true, deleted: true }));
    expect(text).toMatch(/^disk {5}BUFFER FILE DELETED under the running agent: it writes on into the deleted file, lost \(unsent readings, alarm states\) when it stops/m);
  });

  it('says nothing about a disk that is fine, or an older agent that does not report it', () => {
    expect(formatStatus(snapshot({ full: false, since: null, lastError: null, errors: 0, droppedReadings: 0, reserve: true }))).not.toMatch(/^disk/m);
    expect(formatStatus(snapshot())).not.toMatch(/^disk/m);
  });
});
