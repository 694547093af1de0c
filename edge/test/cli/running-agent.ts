/**
 * A real agent for the tests of the commands that ask it (`status`, `watch`): a `lifeline run`
 * child process polling a TCP simulator with a flood gauge held at 3.5 m (above the red
 * threshold of 3.2 m) and a unit 9 that never answers, syncing to the machine's Mosquitto.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { requireService, waitFor } from '../../../test/helpers.js';

export interface RunningAgent {
  configFile: string;
  /** Its control socket. */
  socket: string;
  sim: TcpSimulator;
  process: ChildProcess;
  /** Kill the agent (SIGKILL) and stop the simulator. */
  stop(): Promise<void>;
}

/** Start the agent of gateway `gateway` in `dir` and wait for its control socket. */
export async function startRunningAgent(dir: string, gateway: string): Promise<RunningAgent> {
  await requireService('mosquitto', '127.0.0.1', 1883);
  const flood = new SimulatedDevice(loadProfile('flood-gauge'), 1).inject({ kind: 'fixed', point: 'water_level', value: 3.5 });
  const sim = await startTcpSimulator({ devices: [flood] });
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    `# a test gateway
gateway: { id: ${gateway} }
buses:
  - name: lan
    link: tcp
    host: 127.0.0.1
    port: ${sim.port}
    timeoutMs: 300
    devices:
      - { id: flood-1, profile: flood-gauge, unit: 1, pollMs: 200 }
      - { id: water-9, profile: water-pressure-station, unit: 9, pollMs: 500 }
detectors:
  points:
    - { device: flood-1, point: water_level, threshold: { high: { yellow: 3.0, red: 3.2 } } }
buffer: { path: edge.db }
sync: { transport: mqtt, url: mqtt://127.0.0.1:1883 }
`,
  );
  const agent = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), resolve(import.meta.dirname, '../../src/cli/main.ts'), 'run', '--config', configFile], {
    cwd: dir,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let agentErr = '';
  agent.stderr!.on('data', (d: Buffer) => (agentErr += d.toString()));
  const socket = join(dir, `lifeline-${gateway}.sock`);
  await waitFor(() => existsSync(socket), 30_000, `the agent's control socket (${agentErr})`);
  return {
    configFile,
    socket,
    sim,
    process: agent,
    async stop() {
      agent.kill('SIGKILL');
      await sim.close();
    },
  };
}
