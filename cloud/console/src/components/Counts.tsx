/** Counts per lifeline and per district: devices, and how many are in alarm (worst level's colour). */
import { t, tKind } from '../i18n/index.js';
import { deviceKey, store, useTopic } from '../store.js';

interface Row {
  key: string;
  label: string;
  devices: number;
  alarming: number;
  worst: number;
}

function group(by: (d: (typeof store.devices)[number]) => string | null | undefined, label: (k: string) => string): Row[] {
  const rows = new Map<string, Row>();
  for (const d of store.devices) {
    const k = by(d) ?? '';
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { key: k, label: label(k), devices: 0, alarming: 0, worst: 0 }));
    r.devices++;
    const level = store.deviceLevel.get(deviceKey(d.gateway, d.id)) ?? 0;
    if (level > 0) {
      r.alarming++;
      r.worst = Math.max(r.worst, level);
    }
  }
  return [...rows.values()].sort((a, b) => b.worst - a.worst || b.alarming - a.alarming || b.devices - a.devices);
}

export function Counts() {
  useTopic('registry', 'alarms');
  const table = (title: string, rows: Row[], testid: string) => (
    <div class="count-table" data-testid={testid}>
      <h3>{title}</h3>
      <table>
        <tbody>
          {rows.map((r) => (
            <tr class={`level-${r.worst}`} data-key={r.key}>
              <td class="label">
                <span class="dot" />
                {r.label}
              </td>
              <td class="num">
                {r.devices} <small>{t('map.devices')}</small>
              </td>
              <td class="num alarming">
                {r.alarming} <small>{t('map.alarming')}</small>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
  return (
    <div class="counts-panel">
      {table(t('map.byKind'), group((d) => d.kind, (k) => tKind(k || null)), 'counts-kind')}
      {table(t('map.byDistrict'), group((d) => d.location?.district, (k) => k || '—'), 'counts-district')}
    </div>
  );
}
