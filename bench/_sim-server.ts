/**
 * The simulator process of `pnpm bench sim`: serves N devices (each on its
 * own port, or N units on one port) and answers IPC questions about its own
 * CPU time and memory, so the bench measures the simulator alone.
 *
 *   argv: <devices> <profile> <same-port: 0|1>
 *   IPC in:  'usage'                 IPC out: { cpuMs, rssMb, served }
 *   stdout:  one JSON line { ports: [...] } when listening
 */
import { SimulatedDevice, loadProfile, startTcpFleet, startTcpSimulator } from '@lifeline/devices';

const [n = '1', profileName = 'bridge-structural-monitor', samePort = '0'] = process.argv.slice(2);
const profile = loadProfile(profileName);
const devices = Array.from({ length: Number(n) }, (_, i) => new SimulatedDevice(profile, samePort === '1' ? i + 1 : 1, { seed: i + 1 }));
let served: () => number;
let ports: number[];
if (samePort === '1' || devices.length === 1) {
  const sim = await startTcpSimulator({ devices });
  served = sim.served;
  ports = [sim.port];
} else {
  const fleet = await startTcpFleet({ devices });
  served = fleet.served;
  ports = [...fleet.ports];
}
let peakRss = 0;
setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100).unref();
process.on('message', (m) => {
  if (m === 'usage') {
    const u = process.cpuUsage();
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    process.send!({ cpuMs: (u.user + u.system) / 1000, rssMb: peakRss / 2 ** 20, served: served() });
  }
});
process.on('disconnect', () => process.exit(0));
console.log(JSON.stringify({ ports }));
