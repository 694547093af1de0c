/**
 * The link contract against every link and peer: our TCP link and our RTU
 * link (serial pty, RTU-over-TCP) against the project's simulators and
 * against pymodbus, a slave we did not write.
 */
import { join, resolve } from 'node:path';
import { loadProfile, SimulatedDevice, startPtySimulator, startTcpSimulator } from '@lifeline/devices';
import { ModbusTcpLink, RtuLink, SerialStream, SocketStream } from '../../src/links/index.js';
import { tempDir } from '../../../test/helpers.js';
import { linkContract } from './link-contract.js';
import { freePort, requireTools, startPtyPair, startPymodbus } from './peers.js';

const profile = loadProfile(resolve(import.meta.dirname, 'fixtures/contract-device.yaml'));
const devices = () => [new SimulatedDevice(profile, 1), new SimulatedDevice(profile, 2)];

linkContract('Modbus TCP ↔ simulator', async () => {
  const sim = await startTcpSimulator({ devices: devices() });
  const link = new ModbusTcpLink({ host: '127.0.0.1', port: sim.port, timeoutMs: 1000 });
  return { link, timeoutMs: 100, close: async () => (await link.close(), await sim.close()) };
});

linkContract('RTU-over-TCP ↔ simulator (transparent serial server)', async () => {
  const sim = await startTcpSimulator({ devices: devices(), framing: 'rtu' });
  const link = new RtuLink({ kind: 'rtu-over-tcp', stream: new SocketStream('127.0.0.1', sim.port, 1000, 'rtu-over-tcp'), baud: 19200, timeoutMs: 500 });
  return { link, timeoutMs: 100, close: async () => (await link.close(), await sim.close()) };
});

linkContract('RTU serial ↔ pty simulator at 19200 8E1 (byte-timed)', async () => {
  requireTools('socat');
  const tmp = tempDir();
  const path = join(tmp.dir, 'ttyBUS');
  const sim = await startPtySimulator({ devices: devices(), path, baud: 19200, parity: 'even', turnaroundMs: 3 });
  const link = new RtuLink({ stream: new SerialStream({ path, baud: 19200, parity: 'even' }), baud: 19200, parity: 'even', timeoutMs: 500 });
  return {
    link,
    timeoutMs: 100,
    close: async () => {
      await link.close();
      const { collisions, silenceViolations, badFrames } = sim.line.stats;
      await sim.close();
      tmp.cleanup();
      // The bus saw one request at a time, each after the 3.5-character silence.
      if (collisions || silenceViolations || badFrames) throw new Error(`bus discipline broken: ${JSON.stringify(sim.line.stats)}`);
    },
  };
});

linkContract('Modbus TCP ↔ pymodbus', async () => {
  const port = await freePort();
  const slave = await startPymodbus(['tcp', String(port)]);
  const link = new ModbusTcpLink({ host: '127.0.0.1', port, timeoutMs: 1000 });
  return { link, timeoutMs: 300, close: async () => (await link.close(), await slave.stop()) };
});

// pyserial cannot set parity on a pty (EINVAL), so pymodbus runs 8N1; a pty carries bytes, not bits, either way.
linkContract('RTU serial ↔ pymodbus over a socat pty pair at 9600 8N1', async () => {
  const tmp = tempDir();
  const a = join(tmp.dir, 'ttyA');
  const b = join(tmp.dir, 'ttyB');
  const pair = await startPtyPair(a, b);
  const slave = await startPymodbus(['rtu', b, '9600', 'N']);
  const link = new RtuLink({ stream: new SerialStream({ path: a, baud: 9600, parity: 'none' }), baud: 9600, parity: 'none', timeoutMs: 1000 });
  return {
    link,
    timeoutMs: 300,
    close: async () => {
      await link.close();
      await slave.stop();
      await pair.stop();
      tmp.cleanup();
    },
  };
});
