/**
 * The map's clustering, off the main thread (a module Web Worker, bundled by Vite):
 *
 *   'load'   WGS-84 lat/lon of the located devices + their levels ─▶ gcoord (GCJ-02 maps) ─▶ supercluster index ─▶ 'loaded' with the map positions
 *   'levels' new levels (an alarm changed one) ─▶ the index rebuilt
 *   'view'   a bounding box and zoom ─▶ the clusters and devices in it, packed in a Float64Array
 *
 * Building the index for 10,000 devices costs ~150 ms of CPU on a fresh page (supercluster, cold) and
 * gcoord ~40 ms: the main thread spent them while the overview waited. Messages are handled in order,
 * so a 'view' always answers from the newest index asked for before it.
 */
/// <reference lib="webworker" />
import Supercluster from 'supercluster';
import { toMapAll } from '../geo.js';
import type { FromWorker, ToWorker } from './protocol.js';

type Point = { i: number; level: number };
let ll = new Float64Array(0);
let loadGen = 0;
let index: Supercluster<Point, { level: number }> | null = null;

function build(levels: Uint8Array): void {
  // 50 px on Leaflet's 256 px tiles (supercluster's radius is in 512ths of a tile); a cluster takes its worst member's level.
  index = new Supercluster<Point, { level: number }>({
    radius: 100, extent: 512, maxZoom: 17,
    map: (p) => ({ level: p.level }),
    reduce: (acc, p) => {
      if (p.level > acc.level) acc.level = p.level;
    },
  });
  const n = ll.length / 2;
  const features = new Array(n);
  for (let i = 0; i < n; i++) features[i] = { type: 'Feature', properties: { i, level: levels[i] ?? 0 }, geometry: { type: 'Point', coordinates: [ll[2 * i + 1], ll[2 * i]] } };
  index.load(features);
}

/**
 * While the device list is on its way (hundreds of ms): one throwaway build over a grid of 10,000 points, so V8 has
 * compiled supercluster's and gcoord's loops when the list comes (cold ~150 ms, warm ~30 ms for 10,000 devices).
 */
function warmUp(): void {
  const pts: [number, number][] = [];
  for (let i = 0; i < 10_000; i++) pts.push([35 + (i % 100) * 0.005, 116 + Math.floor(i / 100) * 0.006]);
  toMapAll(pts, 'gcj02');
  ll = Float64Array.from(pts.flat());
  build(new Uint8Array(pts.length));
  index?.getClusters([115, 34, 118, 37], 10);
  ll = new Float64Array(0);
  index = null;
}
setTimeout(warmUp);

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m, transfer);

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'load') {
    const n = m.lat.length;
    const pts = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) pts[i] = [m.lat[i], m.lon[i]];
    const onMap = toMapAll(pts, m.coords);
    ll = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      ll[2 * i] = onMap[i][0];
      ll[2 * i + 1] = onMap[i][1];
    }
    loadGen = m.gen;
    build(m.levels);
    post({ type: 'loaded', gen: loadGen, ll: ll.slice() });
  } else if (m.type === 'levels') {
    build(m.levels);
  } else if (m.type === 'view') {
    const out: number[] = [];
    for (const f of index?.getClusters(m.bbox, m.zoom) ?? []) {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      if ('cluster' in p && p.cluster) out.push(lat, lon, p.point_count, p.level, index!.getClusterExpansionZoom(p.cluster_id));
      else out.push(lat, lon, 0, (p as Point).level, (p as Point).i);
    }
    const items = Float64Array.from(out);
    post({ type: 'view', id: m.id, gen: loadGen, items }, [items.buffer]);
  }
};
