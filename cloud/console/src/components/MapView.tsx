/**
 * The map (Leaflet): Jining's district outlines as the offline base (or the
 * city's own XYZ tiles when the cloud is configured with them), devices and
 * gateways coloured by their worst active alarm, clustered when zoomed out
 * (Leaflet.markercluster; a cluster takes its worst member's colour).
 *
 *   devices (WGS-84) ─▶ geo.toMap (GCJ-02 for Chinese base maps) ─▶ marker
 *     normal device: canvas circle (cheap for 10,000)   device in alarm: DOM marker (data-level, blinks when red and unacked)
 *   'alarms' topic ─▶ only markers whose level changed are swapped ─▶ clusters refreshed
 *
 * Popups are built as DOM text nodes: a device name from the field is never parsed as HTML.
 */
import { useEffect, useRef } from 'preact/hooks';
import L from 'leaflet';
import 'leaflet.markercluster';
import districts from '../data/jining-districts.json';
import type { Device, Gateway } from '../api.js';
import { fmtTime, t, tKind, tLevel } from '../i18n/index.js';
import { deviceKey, store } from '../store.js';
import { JINING, toMap, type MapCoords } from '../geo.js';
import { href } from '../route.js';

export const LEVEL_COLOURS = ['#3ddc84', '#1e88ff', '#ffd60a', '#ff8c1a', '#ff2d2d'];

type DevMarker = (L.CircleMarker | L.Marker) & { options: { level?: number; key?: string } };

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

function makeDeviceMarker(d: Device, level: number, coords: MapCoords, unacked: boolean): DevMarker {
  const ll = toMap(d.location!.lat, d.location!.lon, coords);
  const key = deviceKey(d.gateway, d.id);
  let m: DevMarker;
  if (level > 0) {
    const icon = L.divIcon({ className: `dev-marker level-${level}${unacked && level === 4 ? ' blink' : ''}`, iconSize: [18, 18], html: '' });
    m = L.marker(ll, { icon, keyboard: false, title: d.name || d.id }) as DevMarker;
    m.on('add', () => {
      const node = (m as L.Marker).getElement();
      if (node) {
        node.dataset.device = d.id;
        node.dataset.gateway = d.gateway;
        node.dataset.level = String(level);
      }
    });
  } else {
    m = L.circleMarker(ll, { radius: 5, weight: 1, color: '#0b1a2e', fillColor: d.online ? LEVEL_COLOURS[0] : '#7a8699', fillOpacity: 0.9 }) as DevMarker;
  }
  m.options.level = level;
  m.options.key = key;
  m.bindPopup(() => devicePopup(d, level));
  return m;
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
    const outlines = L.geoJSON(districts as GeoJSON.FeatureCollection, {
      style: { color: '#5b7bb2', weight: 1.5, fillColor: '#16304f', fillOpacity: tiles ? 0 : 0.55 },
      interactive: false,
    }).addTo(map);
    for (const f of (districts as GeoJSON.FeatureCollection).features) {
      const c = (f.properties as { center?: [number, number] }).center;
      if (c) L.marker([c[1], c[0]], { icon: L.divIcon({ className: 'district-label', html: '', iconSize: [0, 0] }), interactive: false, keyboard: false }).addTo(map).getElement()?.append(el('span', '', (f.properties as { name: string }).name));
    }
    void outlines;

    const cluster = L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      maxClusterRadius: 50,
      iconCreateFunction: (c) => {
        let worst = 0;
        for (const m of c.getAllChildMarkers() as DevMarker[]) if ((m.options.level ?? 0) > worst) worst = m.options.level ?? 0;
        const icon = L.divIcon({ className: `cluster level-${worst}`, iconSize: [40, 40], html: '' });
        const n = c.getChildCount();
        // The count as text, set when the icon is placed (no HTML string).
        (icon as L.DivIcon & { createIcon(old?: HTMLElement): HTMLElement }).createIcon = function (old?: HTMLElement) {
          const div = L.DivIcon.prototype.createIcon.call(this, old) as HTMLElement;
          div.textContent = String(n);
          div.dataset.level = String(worst);
          return div;
        };
        return icon;
      },
    });
    map.addLayer(cluster);
    const gatewayLayer = L.layerGroup().addTo(map);

    const markers = new Map<string, DevMarker>();
    const unackedRed = () => new Set(store.alarms.filter((a) => a.level === 4 && a.state === 'active_unacked').map((a) => deviceKey(a.gateway, a.device)));
    const levelKey = (k: string, red: Set<string>) => `${store.deviceLevel.get(k) ?? 0}${red.has(k) ? '!' : ''}`;
    const shown = new Map<string, string>();
    let fitted = false;

    const drawAll = () => {
      cluster.clearLayers();
      markers.clear();
      shown.clear();
      const red = unackedRed();
      const add: DevMarker[] = [];
      for (const d of store.devices) {
        if (!d.location) continue;
        const k = deviceKey(d.gateway, d.id);
        const m = makeDeviceMarker(d, store.deviceLevel.get(k) ?? 0, coords, red.has(k));
        markers.set(k, m);
        shown.set(k, levelKey(k, red));
        add.push(m);
      }
      performance.mark('lifeline:map-markers');
      // First time there are devices: show where they are (a city centre's few, or the whole city's many).
      // Before the markers go in, so the clusters are built once, for the zoom they are seen at.
      if (!fitted && add.length) {
        fitted = true;
        map.fitBounds(L.latLngBounds(add.map((m) => m.getLatLng())), { maxZoom: 14, padding: [30, 30], animate: false });
      }
      // One batch (chunked: the page stays responsive while 10,000 markers are clustered).
      cluster.addLayers(add);
      drawGateways();
      performance.mark('lifeline:map-drawn');
    };
    const drawGateways = () => {
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
      const red = unackedRed();
      const removed: DevMarker[] = [];
      const added: DevMarker[] = [];
      for (const [k, old] of markers) {
        const lk = levelKey(k, red);
        if (shown.get(k) === lk) continue;
        const d = store.deviceIndex.get(k);
        if (!d) continue;
        const m = makeDeviceMarker(d, store.deviceLevel.get(k) ?? 0, coords, red.has(k));
        removed.push(old);
        added.push(m);
        markers.set(k, m);
        shown.set(k, lk);
      }
      if (removed.length) {
        cluster.removeLayers(removed);
        cluster.addLayers(added);
      }
      drawGateways();
    };
    drawAll();
    const offs = [store.on('registry', drawAll), store.on('gateways', drawGateways), store.on('alarms', onAlarms)];
    // Look-up for tests and the "show on map" link: zoom to one device.
    (map as L.Map & { showDevice?: (gw: string, id: string) => void }).showDevice = (gw, id) => {
      const m = markers.get(deviceKey(gw, id));
      if (m) cluster.zoomToShowLayer(m, () => m.openPopup());
    };
    (globalThis as any).__lifelineMap = map;
    return () => {
      offs.forEach((o) => o());
      // A sign-out or token switch can unmount the map mid-animation or mid-chunk: stop both
      // first, or Leaflet's pending frame reads a removed pane (_leaflet_pos of undefined).
      map.stop();
      map.removeLayer(cluster);
      map.remove();
    };
  }, []);
  return <div class="map" ref={box} data-testid="map" />;
}
