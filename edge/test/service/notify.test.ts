/**
 * The agent's side of systemd's notify protocol against a fake NOTIFY_SOCKET (a
 * unix datagram socket held by python, as node has none): READY=1, watchdog pings
 * at a third of WATCHDOG_USEC from the main loop (none while the loop is blocked),
 * STOPPING=1; and nothing at all without NOTIFY_SOCKET.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tempDir, waitFor } from '../../../test/helpers.js';
import { SystemdNotifier } from '../../src/agent/notify.js';

const tmp = tempDir();
let receiver: ChildProcessWithoutNullStreams | undefined;
afterAll(() => {
  receiver?.kill('SIGKILL');
  tmp.cleanup();
});

/** A fake NOTIFY_SOCKET: every datagram as one line with its arrival time (ms). */
async function fakeNotifySocket(path: string): Promise<{ messages: { at: number; text: string }[] }> {
  const code = [
    'import socket, sys, time',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    's.bind(sys.argv[1])',
    'print("listening", flush=True)',
    'while True:',
    '    data, anc, flags, addr = s.recvmsg(4096, 0)',  // no room for fds: the kernel closes them (BARRIER=1 completes)
    '    print("%d %s" % (time.time() * 1000, data.decode().replace("\\n", " ").strip()), flush=True)',
  ].join('\n');
  receiver = spawn('/usr/bin/python3', ['-c', code, path]);
  const messages: { at: number; text: string }[] = [];
  let buf = '';
  receiver.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = /^(\d+) (.*)$/.exec(line);
      if (m) messages.push({ at: Number(m[1]), text: m[2] });
      else if (line === 'listening') messages.push({ at: 0, text: 'listening' });
    }
  });
  await waitFor(() => messages.some((m) => m.text === 'listening'), 10_000, 'the fake NOTIFY_SOCKET');
  return { messages };
}

describe('systemd notify and watchdog', { timeout: 60_000 }, () => {
  it('sends nothing and starts no timer without NOTIFY_SOCKET', async () => {
    const send = vi.fn(async () => {});
    const n = new SystemdNotifier(undefined, { env: { WATCHDOG_USEC: '300000' }, send });
    await n.ready();
    await n.stopping();
    expect(send).not.toHaveBeenCalled();
    expect(n.watchdogMs).toBeUndefined();
  });

  it("leaves another process's watchdog alone (WATCHDOG_PID)", () => {
    const n = new SystemdNotifier(undefined, { env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '300000', WATCHDOG_PID: '1' }, pid: 4242 });
    expect(n.watchdogMs).toBeUndefined();
    expect(new SystemdNotifier(undefined, { env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '300000', WATCHDOG_PID: '4242' }, pid: 4242 }).watchdogMs).toBe(300);
  });

  it('says READY=1 with its pid, pings WATCHDOG=1 from the main loop (not while it is blocked), then STOPPING=1', async () => {
    const path = join(tmp.dir, 'notify');
    const { messages } = await fakeNotifySocket(path);
    const errors: unknown[] = [];
    const n = new SystemdNotifier((err) => errors.push(err), { env: { ...process.env, NOTIFY_SOCKET: path, WATCHDOG_USEC: '600000' } });
    expect(n.watchdogMs).toBe(600);
    await n.ready('gateway gw-1: 2 bus(es)');
    expect(messages.find((m) => m.text.startsWith('READY=1'))?.text).toBe(`READY=1 STATUS=gateway gw-1: 2 bus(es) MAINPID=${process.pid}`);
    await waitFor(() => messages.filter((m) => m.text === 'WATCHDOG=1').length >= 3, 10_000, 'three watchdog pings');
    // A hung main loop: no ping gets out while it is blocked, so systemd would restart the service.
    const before = messages.filter((m) => m.text === 'WATCHDOG=1').length;
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) {
      /* blocked */
    }
    const blockedUntil = Date.now();
    await waitFor(() => messages.filter((m) => m.text === 'WATCHDOG=1').length > before + 1, 10_000, 'pings after the block');
    const pings = messages.filter((m) => m.text === 'WATCHDOG=1').map((m) => m.at);
    // Every 200 ms, about 7 pings would fall in the block; at most the one already on its way
    // (a systemd-notify started just before it, late on a loaded machine) arrives.
    expect(pings.filter((at) => at > t0 && at < blockedUntil).length).toBeLessThanOrEqual(1);
    await n.stopping();
    await waitFor(() => messages.some((m) => m.text === 'STOPPING=1'), 10_000, 'STOPPING=1');
    const after = messages.filter((m) => m.text === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 700));
    expect(messages.filter((m) => m.text === 'WATCHDOG=1').length).toBe(after);
    expect(errors).toEqual([]);
  });
});
