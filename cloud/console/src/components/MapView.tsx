/**
 * The map (Leaflet): Jining's district outlines as the offline base (or the
 * city's own XYZ tiles when the cloud is configured with them), devices and
 * gateways coloured by their worst active alarm, clustered when zoomed out
 * (supercluster; a cluster takes its worst member's colour).
 *
 *   devices (WGS-84) ─▶ worker (map/cluster-worker.ts): gcoord (GCJ-02 for Chinese base maps) ─▶ supercluster index (all zooms at once)
 *   moveend ─▶ the worker: the clusters and devices in view ─▶ drawn (the newest answer only): a cluster as a DOM icon with its count,
 *     a normal device as a canvas circle, a device in alarm as a DOM marker (data-level, blinks when red and unacked)
 *   'alarms' topic ─▶ when a device's level changed: the index rebuilt with the new levels ─▶ the view redrawn
 *   first clusters painted ─▶ the district outlines (their own chunk) added under them
 *
 * Only what is in view is ever a Leaflet layer (tens to hundreds), never all 10,000 devices
 * (Leaflet.markercluster built a layer per device and per cluster: seconds for 10,000).
 * Popups are built as DOM text nodes: a device name from the field is never parsed as HTML.
 */
import { useEffect, useRef } from 'preact/hooks';
import L from 'leaflet';
import type { Device, Gateway } from '../api.js';
import { fmtTime, t, tKind, tLevel } from '../i18n/index.js';
import { deviceKey, store } from '../store.js';
import { JINING, toMap } from '../geo.js';
import { ITEM, type FromWorker, type ToWorker } from '../map/protocol.js';
import { takeClusterWorker } from '../map/clusters.js';
import { href } from '../route.js';

export const LEVEL_COLOURS = ['#3ddc84', '#1e88ff', '#ffd60a', '#ff8c1a', '#ff2d2d'];

function el(tag: string, cls: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function devicePopup(d: Device, level: number): HTMLElement {
  const box = el('div', 'popup');
  box.append(el('strong', 'name', d.name || d.id), el('div', 'ids', `${d.gateway} / ${d.id}`));
  box.append(el('div', 'where', [tKind(d.kind), d.location?.district, d.location?.gridUnit].filter(Boolean).join(' · ')));
  box.append(el('div', `lvl level-${level}`, tLevel(level)));
  const a = el('a', 'open', t('map.open')) as HTMLAnchorElement;
  a.href = href.device(d.gateway, d.id);
  box.append(a);
  return box;
}

function gatewayPopup(g: Gateway, level: number): HTMLElement {
  const box = el('div', 'popup');
  box.append(el('strong', 'name', `${t('map.gateway')}: ${g.name || g.id}`), el('div', 'ids', g.id));
  box.append(el('div', 'where', `${g.online ? t('device.online') : t('device.offline')} · ${fmtTime(g.lastSeen)}`));
  box.append(el('div', `lvl level-${level}`, tLevel(level)));
  const a = el('a', 'open', t('gw.title')) as HTMLAnchorElement;
  a.href = href.gateways(g.id);
  box.append(a);
  return box;
}

function makeDeviceMarker(d: Device, ll: L.LatLngExpression, level: number, unacked: boolean): L.Layer {
  let m: L.CircleMarker | L.Marker;
  if (level > 0) {
    const icon = L.divIcon({ className: `dev-marker level-${level}${unacked && level === 4 ? ' blink' : ''}`, iconSize: [18, 18], html: '' });
    const marker = (m = L.marker(ll, { icon, keyboard: false, title: d.name || d.id }));
    m.on('add', () => {
      const node = marker.getElement();
      if (node) {
        node.dataset.device = d.id;
        node.dataset.gateway = d.gateway;
        node.dataset.level = String(level);
      }
    });
  } else {
    m = L.circleMarker(ll, { radius: 5, weight: 1, color: '#0b1a2e', fillColor: d.online ? LEVEL_COLOURS[0] : '#7a8699', fillOpacity: 0.9 });
  }
  m.bindPopup(() => devicePopup(d, level));
  return m;
}

/** A cluster: its count as text (no HTML string), its worst member's level as class and data-level; a click zooms in until it splits. */
function makeClusterMarker(ll: L.LatLngExpression, count: number, worst: number, onClick: () => void): L.Marker {
  const icon = L.divIcon({ className: `cluster level-${worst}`, iconSize: [40, 40], html: '' });
  (icon as L.DivIcon & { createIcon(old?: HTMLElement): HTMLElement }).createIcon = function (old?: HTMLElement) {
    const div = L.DivIcon.prototype.createIcon.call(this, old) as HTMLElement;
    div.textContent = String(count);
    div.dataset.level = String(worst);
    return div;
  };
  return L.marker(ll, { icon, keyboard: false }).on('click', onClick);
}

/** Jining's district outlines and their names (a chunk of their own, ~170 kB), under everything else. */
async function addOutlines(map: L.Map, tiles: boolean, gone: () => boolean): Promise<void> {
  const districts = (await import('../data/jining-districts.json')).default as GeoJSON.FeatureCollection;
  if (gone()) return;
  L.geoJSON(districts, { style: { color: '#5b7bb2', weight: 1.5, fillColor: '#16304f', fillOpacity: tiles ? 0 : 0.55 }, interactive: false }).addTo(map).bringToBack();
  for (const f of districts.features) {
    const c = (f.properties as { center?: [number, number] }).center;
    if (c) L.marker([c[1], c[0]], { icon: L.divIcon({ className: 'district-label', html: '', iconSize: [0, 0] }), interactive: false, keyboard: false }).addTo(map).getElement()?.append(el('span', '', (f.properties as { name: string }).name));
  }
}

export function MapView() {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const coords = store.info?.map.coords ?? 'gcj02';
    const map = L.map(box.current!, { preferCanvas: true, zoomControl: true, attributionControl: true, minZoom: 7, maxZoom: 18 });
    map.setView(toMap(JINING.lat, JINING.lon, coords), JINING.zoom);
    const tiles = store.info?.map.tileUrl;
    if (tiles) L.tileLayer(tiles, { attribution: store.info?.map.attribution ?? '', maxZoom: 18 }).addTo(map);
    else map.attributionControl.addAttribution(t('map.offlineBase'));
    // The outlines once the first clusters are painted (their ~110 ms no longer before them), or after 1.5 s without devices.
    let outlined = false;
    let gone = false;
    const outline = () => {
      if (outlined || gone) return;
      outlined = true;
      addOutlines(map, !!tiles, () => gone).catch((e) => console.error('district outlines:', e));
    };
    const outlineTimer = setTimeout(outline, 1500);

    const gatewayLayer = L.layerGroup().addTo(map);
    // Drawn over the gateways: cluster icons and the devices in view.
    const viewLayer = L.layerGroup().addTo(map);

    // The devices with a location and their position on this map ([lat, lon] by index, from the worker), their key's index.
    let located: Device[] = [];
    // The list the worker's index was last built from (what its answers' indices point into), and their positions.
    let placed: Device[] = [];
    let ll: Float64Array = new Float64Array(0);
    let gen = 0;
    let placedGen = -1;
    let indexOf = new Map<string, number>();
    const worker = takeClusterWorker();
    const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
    // Single devices drawn now, by key (showDevice opens their popup).
    const drawn = new Map<string, L.Layer>();
    const unackedRed = () => new Set(store.alarms.filter((a) => a.level === 4 && a.state === 'active_unacked').map((a) => deviceKey(a.gateway, a.device)));
    let shown = '';
    let fitted = false;
    let firstDrawn = false;
    let afterDraw: (() => void) | null = null;

    /**
     * Levels of the located devices in alarm (a '!' for a red unacknowledged one), by index: what the index and
     * the markers were built from. From the devices with a level (hundreds), not from every located device.
     */
    const levelsNow = (red: Set<string>) => {
      const at: [number, string][] = [];
      for (const [k, l] of store.deviceLevel) {
        const i = indexOf.get(k);
        if (i !== undefined && l) at.push([i, `${i}:${l}${red.has(k) ? '!' : ''}`]);
      }
      return at.sort((a, b) => a[0] - b[0]).map((x) => x[1]).join();
    };
    const levels = () => {
      const out = new Uint8Array(located.length);
      for (const [k, l] of store.deviceLevel) {
        const i = indexOf.get(k);
        if (i !== undefined) out[i] = l;
      }
      return out;
    };
    let viewId = 0;
    /** Asks the worker for the clusters and devices in view (and a margin); drawn when the newest such answer comes. */
    const drawView = () => {
      if (placedGen < 0) return;
      const b = map.getBounds().pad(0.25);
      send({ type: 'view', id: ++viewId, bbox: [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())], zoom: Math.round(map.getZoom()) });
    };
    const draw = (items: Float64Array) => {
      viewLayer.clearLayers();
      drawn.clear();
      const red = unackedRed();
      const layers: L.Layer[] = [];
      for (let j = 0; j < items.length; j += ITEM) {
        const [lat, lon, count, level, x] = items.subarray(j, j + ITEM);
        if (count > 0) {
          layers.push(makeClusterMarker([lat, lon], count, level, () => map.setView([lat, lon], Math.min(x, map.getMaxZoom()))));
        } else {
          const d = placed[x];
          const k = deviceKey(d.gateway, d.id);
          const m = makeDeviceMarker(d, L.latLng(lat, lon), level, red.has(k));
          drawn.set(k, m);
          layers.push(m);
        }
      }
      for (const l of layers) viewLayer.addLayer(l);
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'loaded') {
        if (m.gen !== gen) return;
        ll = m.ll;
        placed = located;
        placedGen = m.gen;
        performance.mark('lifeline:map-markers');
        // First time there are devices: show where they are (a city centre's few, or the whole city's many).
        if (!fitted && ll.length) {
          fitted = true;
          let [s, w, n, e] = [90, 180, -90, -180];
          for (let i = 0; i < ll.length; i += 2) {
            if (ll[i] < s) s = ll[i];
            if (ll[i] > n) n = ll[i];
            if (ll[i + 1] < w) w = ll[i + 1];
            if (ll[i + 1] > e) e = ll[i + 1];
          }
          map.fitBounds(L.latLngBounds([s, w], [n, e]), { maxZoom: tiles ? 14 : 12 /* offline base: closer shows no district line */, padding: [30, 30], animate: false });
        }
        drawView();
      } else if (m.id === viewId && m.gen === placedGen) {
        draw(m.items);
        if (!firstDrawn && placed.length) {
          firstDrawn = true;
          performance.mark('lifeline:map-drawn');
          requestAnimationFrame(() => setTimeout(outline));
        }
        afterDraw?.();
        afterDraw = null;
      }
    };

    const drawAll = () => {
      located = store.devices.filter((d) => d.location);
      const lat = new Float64Array(located.length);
      const lon = new Float64Array(located.length);
      located.forEach((d, i) => {
        lat[i] = d.location!.lat;
        lon[i] = d.location!.lon;
      });
      indexOf = new Map(located.map((d, i) => [deviceKey(d.gateway, d.id), i]));
      const lv = levels();
      shown = levelsNow(unackedRed());
      send({ type: 'load', gen: ++gen, lat, lon, levels: lv, coords }, [lat.buffer, lon.buffer, lv.buffer]);
      drawGateways();
    };
    // What the gateway markers were made from: remade only when the list or a gateway's level changed
    // (they were remade with every device list and every alarm update: 100 DOM markers each time).
    let gatewaysDrawn: { list: Gateway[]; levels: string } | null = null;
    const drawGateways = () => {
      const levels = [...store.gatewayLevel].join();
      if (gatewaysDrawn && gatewaysDrawn.list === store.gateways && gatewaysDrawn.levels === levels) return;
      gatewaysDrawn = { list: store.gateways, levels };
      gatewayLayer.clearLayers();
      for (const g of store.gateways) {
        if (!g.location) continue;
        const level = store.gatewayLevel.get(g.id) ?? 0;
        const m = L.marker(toMap(g.location.lat, g.location.lon, coords), {
          icon: L.divIcon({ className: `gw-marker level-${level}${g.online ? '' : ' offline'}`, iconSize: [16, 16], html: '' }),
          title: g.name || g.id,
          // Under the clusters, so their counts stay readable.
          zIndexOffset: -1000,
        });
        m.bindPopup(() => gatewayPopup(g, level));
        m.addTo(gatewayLayer);
        const node = m.getElement();
        if (node) {
          node.dataset.gateway = g.id;
          node.dataset.level = String(level);
        }
      }
    };
    const onAlarms = () => {
      // Only when a device's level (or red blink) changed: the index then carries the new levels.
      const red = unackedRed();
      const now = levelsNow(red);
      if (now !== shown) {
        shown = now;
        const lv = levels();
        send({ type: 'levels', levels: lv }, [lv.buffer]);
        drawView();
      }
      drawGateways();
    };
    // No device list yet: nothing for the worker (its answer would queue behind its warm-up).
    if (store.devices.length) drawAll();
    else drawGateways();
    map.on('moveend', drawView);
    const offs = [store.on('registry', drawAll), store.on('gateways', drawGateways), store.on('alarms', onAlarms)];
    // Look-up for tests and the "show on map" link: zoom to one device and open its popup once drawn.
    (map as L.Map & { showDevice?: (gw: string, id: string) => void }).showDevice = (gw, id) => {
      const i = indexOf.get(deviceKey(gw, id));
      if (i === undefined || placedGen !== gen) return;
      afterDraw = () => drawn.get(deviceKey(gw, id))?.openPopup();
      map.setView([ll[2 * i], ll[2 * i + 1]], map.getMaxZoom(), { animate: false });
      drawView();
    };
    (globalThis as any).__lifelineMap = map;
    return () => {
      offs.forEach((o) => o());
      gone = true;
      clearTimeout(outlineTimer);
      worker.terminate();
      // A sign-out or token switch can unmount the map mid-animation: stop it first,
      // or Leaflet's pending frame reads a removed pane (_leaflet_pos of undefined).
      map.stop();
      map.off('moveend', drawView);
      map.remove();
    };
  }, []);
  return <div class="map" ref={box} data-testid="map" />;
}
