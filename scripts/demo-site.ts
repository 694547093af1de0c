/**
 * The demo site's simulators: one Modbus TCP simulator per bus of the example
 * config, every device living in one city scene (Jining's clock, its street
 * lighting schedule, demand peaks, heating curve and a recurring rainstorm).
 *
 *   example gateway.yaml ─▶ buses[] ─▶ SimulatedDevice per device ◀─ CityScene.attach (its behaviours)
 *                                  └─▶ startTcpSimulator (free port) ─▶ bus.port rewritten for the agent
 */
import { CityScene, DEMO_STORM, SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';

/** The part of the example config the simulators need; `port` is rewritten to the simulator's. */
export interface SiteBus {
  name: string;
  port: number;
  devices: { id: string; profile: string; unit: number }[];
}

/** The running simulators of a site. */
export interface DemoSite {
  scene: CityScene;
  sims: TcpSimulator[];
  /** Every simulated device, by config id. */
  devices: Map<string, SimulatedDevice>;
  close(): Promise<void>;
}

/**
 * The example's flood gauges stand in underpasses, except the lake station
 * (rain-1), whose ponding sensor has no underpass to fill.
 */
const NOT_IN_AN_UNDERPASS = new Set(['rain-1']);

/**
 * Start a simulator for each bus (on a free port, written back into `bus.port`)
 * with its devices in one scene. `daySpeed` compresses the day (1: China time as it is).
 */
export async function startDemoSite(buses: SiteBus[], opts: { daySpeed?: number; now?: () => number } = {}): Promise<DemoSite> {
  const scene = new CityScene({ storm: DEMO_STORM, daySpeed: opts.daySpeed, now: opts.now });
  const sims: TcpSimulator[] = [];
  const devices = new Map<string, SimulatedDevice>();
  let seed = 0;
  try {
    for (const bus of buses) {
      const onBus = bus.devices.map((d) => {
        const dev = new SimulatedDevice(loadProfile(d.profile), d.unit, { seed: ++seed, now: opts.now });
        scene.attach(dev, { seed, underpass: !NOT_IN_AN_UNDERPASS.has(d.id) });
        devices.set(d.id, dev);
        return dev;
      });
      const sim = await startTcpSimulator({ devices: onBus });
      sims.push(sim);
      bus.port = sim.port;
    }
  } catch (err) {
    for (const s of sims) await s.close();
    throw err;
  }
  return {
    scene,
    sims,
    devices,
    close: async () => {
      for (const s of sims) await s.close();
    },
  };
}
