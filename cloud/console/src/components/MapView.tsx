/**
 * The map (Leaflet): Jining's district outlines as the offline base (or the
 * city's own XYZ tiles when the cloud is configured with them), devices and
 * gateways coloured by their worst active alarm, clustered when zoomed out
 * (supercluster; a cluster takes its worst member's colour).
 *
 *   devices (WGS-84) ─▶ geo.toMapAll (GCJ-02 for Chinese base maps) ─▶ supercluster index (all zooms at once; 10,000 devices: ~150 ms of CPU cold, ~30 ms warm)
 *   moveend ─▶ the clusters and devices in view ─▶ drawn: a cluster as a DOM icon with its count,
 *     a normal device as a canvas circle, a device in alarm as a DOM marker (data-level, blinks when red and unacked)
 *   'alarms' topic ─▶ when a device's level changed: the index rebuilt with the new levels ─▶ the view redrawn
 *
 * Only what is in view is ever a Leaflet layer (tens to hundreds), never all 10,000 devices
 * (Leaflet.markercluster built a layer per device and per cluster: seconds for 10,000).
 * Popups are built as DOM text nodes: a device name from the field is never parsed as HTML.
 */
import { useEffect, useRef } from 'preact/hooks';
import L from 'leaflet';
import Supercluster from 'supercluster';
import districts from '../data/jining-districts.json';
import type { Device, Gateway } from '../api.js';
import { fmtTime, t, tKind, tLevel } from '../i18n/index.js';
import { deviceKey, store } from '../store.js';
import { JINING, toMap, toMapAll } from '../geo.js';
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

type Point = { i: number; level: number };

export function MapView() {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const coords = store.info?.map.coords ?? 'gcj02';
    const map = L.map(box.current!, { preferCanvas: true, zoomControl: true, attributionControl: true, minZoom: 7, maxZoom: 18 });
    map.setView(toMap(JINING.lat, JINING.lon, coords), JINING.zoom);
    const tiles = store.info?.map.tileUrl;
    if (tiles) L.tileLayer(tiles, { attribution: store.info?.map.attribution ?? '', maxZoom: 18 }).addTo(map);
    else map.attributionControl.addAttribution(t('map.offlineBase'));
    const outlines = L.geoJSON(districts as GeoJSON.FeatureCollection, {
      style: { color: '#5b7bb2', weight: 1.5, fillColor: '#16304f', fillOpacity: tiles ? 0 : 0.55 },
      interactive: false,
    }).addTo(map);
    for (const f of (districts as GeoJSON.FeatureCollection).features) {
      const c = (f.properties as { center?: [number, number] }).center;
      if (c) L.marker([c[1], c[0]], { icon: L.divIcon({ className: 'district-label', html: '', iconSize: [0, 0] }), interactive: false, keyboard: false }).addTo(map).getElement()?.append(el('span', '', (f.properties as { name: string }).name));
    }
    void outlines;

    const gatewayLayer = L.layerGroup().addTo(map);
    // Drawn over the gateways: cluster icons and the devices in view.
    const viewLayer = L.layerGroup().addTo(map);

    // The devices with a location, their position on this map, and their key's index.
    let placed: { d: Device; ll: L.LatLng }[] = [];
    let indexOf = new Map<string, number>();
    let keys: string[] = [];
    let clusters = new Supercluster<Point, { level: number }>({ maxZoom: 17 });
    // Single devices drawn now, by key (showDevice opens their popup).
    const drawn = new Map<string, L.Layer>();
    const unackedRed = () => new Set(store.alarms.filter((a) => a.level === 4 && a.state === 'active_unacked').map((a) => deviceKey(a.gateway, a.device)));
    let shown = '';
    let fitted = false;

    /**
     * Levels of the placed devices in alarm (a '!' for a red unacknowledged one), by index: what the index and
     * the markers were built from. From the devices with a level (hundreds), not from every placed device.
     */
    const levelsNow = (red: Set<string>) => {
      const at: [number, string][] = [];
      for (const [k, l] of store.deviceLevel) {
        const i = indexOf.get(k);
        if (i !== undefined && l) at.push([i, `${i}:${l}${red.has(k) ? '!' : ''}`]);
      }
      return at.sort((a, b) => a[0] - b[0]).map((x) => x[1]).join();
    };
    const buildIndex = (red: Set<string>) => {
      // 50 px on Leaflet's 256 px tiles (supercluster's radius is in 512ths of a tile).
      clusters = new Supercluster<Point, { level: number }>({
        radius: 100, extent: 512, maxZoom: 17,
        map: (p) => ({ level: p.level }),
        reduce: (acc, p) => {
          if (p.level > acc.level) acc.level = p.level;
        },
      });
      clusters.load(
        placed.map(({ ll }, i) => ({ type: 'Feature' as const, properties: { i, level: store.deviceLevel.get(keys[i]) ?? 0 }, geometry: { type: 'Point' as const, coordinates: [ll.lng, ll.lat] } })),
      );
      shown = levelsNow(red);
    };
    let views = 0;
    /** The clusters and devices in view (and a margin), as layers. */
    const drawView = () => {
      views++;
      viewLayer.clearLayers();
      drawn.clear();
      if (!placed.length) return;
      const b = map.getBounds().pad(0.25);
      const red = unackedRed();
      const layers: L.Layer[] = [];
      for (const f of clusters.getClusters([Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())], Math.round(map.getZoom()))) {
        const [lon, lat] = f.geometry.coordinates;
        const p = f.properties;
        if ('cluster' in p && p.cluster) {
          const id = p.cluster_id;
          layers.push(makeClusterMarker([lat, lon], p.point_count, p.level, () => map.setView([lat, lon], Math.min(clusters.getClusterExpansionZoom(id), map.getMaxZoom()))));
        } else {
          const { d, ll } = placed[(p as Point).i];
          const k = deviceKey(d.gateway, d.id);
          const m = makeDeviceMarker(d, ll, (p as Point).level, red.has(k));
          drawn.set(k, m);
          layers.push(m);
        }
      }
      for (const l of layers) viewLayer.addLayer(l);
    };

    const drawAll = () => {
      const located = store.devices.filter((d) => d.location);
      const onMap = toMapAll(located.map((d) => [d.location!.lat, d.location!.lon] as const), coords);
      placed = located.map((d, i) => ({ d, ll: L.latLng(onMap[i]) }));
      keys = located.map((d) => deviceKey(d.gateway, d.id));
      indexOf = new Map(keys.map((k, i) => [k, i]));
      buildIndex(unackedRed());
      performance.mark('lifeline:map-markers');
      // First time there are devices: show where they are (a city centre's few, or the whole city's many).
      const before = views;
      if (!fitted && placed.length) {
        fitted = true;
        map.fitBounds(L.latLngBounds(placed.map((p) => p.ll)), { maxZoom: 14, padding: [30, 30], animate: false });
      }
      // A fit that moved the map has drawn the view already (moveend): not twice.
      if (views === before) drawView();
      drawGateways();
      performance.mark('lifeline:map-drawn');
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
      if (levelsNow(red) !== shown) {
        buildIndex(red);
        drawView();
      }
      drawGateways();
    };
    drawAll();
    map.on('moveend', drawView);
    const offs = [store.on('registry', drawAll), store.on('gateways', drawGateways), store.on('alarms', onAlarms)];
    // Look-up for tests and the "show on map" link: zoom to one device and open its popup.
    (map as L.Map & { showDevice?: (gw: string, id: string) => void }).showDevice = (gw, id) => {
      const i = indexOf.get(deviceKey(gw, id));
      if (i === undefined) return;
      map.setView(placed[i].ll, map.getMaxZoom(), { animate: false });
      drawView();
      drawn.get(deviceKey(gw, id))?.openPopup();
    };
    (globalThis as any).__lifelineMap = map;
    return () => {
      offs.forEach((o) => o());
      // A sign-out or token switch can unmount the map mid-animation: stop it first,
      // or Leaflet's pending frame reads a removed pane (_leaflet_pos of undefined).
      map.stop();
      map.off('moveend', drawView);
      map.remove();
    };
  }, []);
  return <div class="map" ref={box} data-testid="map" />;
}
