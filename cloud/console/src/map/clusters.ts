/**
 * The map's clustering worker (cluster-worker.ts), started by the entry (main.tsx) before the overview's
 * API requests: the cloud answers in order, so a worker asked for by the map would wait behind the
 * 1.2 MB device list and start cold after it.
 */
let spare: Worker | null = null;
const create = () => new Worker(new URL('./cluster-worker.ts', import.meta.url), { type: 'module' });

/** Starts the worker now, for the map to take later. */
export function startClusterWorker(): void {
  spare ??= create();
}

/** The started worker (or a new one): the map's own, to terminate when it goes. */
export function takeClusterWorker(): Worker {
  const w = spare ?? create();
  spare = null;
  return w;
}
