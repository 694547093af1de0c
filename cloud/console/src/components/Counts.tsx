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

/** Both tables in one pass over the devices (10,000 on the bench's overview): one level look-up per device. */
function groups(): { byKind: Row[]; byDistrict: Row[] } {
  const kinds = new Map<string, Row>();
  const districts = new Map<string, Row>();
  const add = (rows: Map<string, Row>, k: string, label: (k: string) => string, level: number) => {
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { key: k, label: label(k), devices: 0, alarming: 0, worst: 0 }));
    r.devices++;
    if (level > 0) {
      r.alarming++;
      r.worst = Math.max(r.worst, level);
    }
  };
  const kindLabel = (k: string) => tKind(k || null);
  const districtLabel = (k: string) => k || '—';
  const levels = store.deviceLevel;
  for (const d of store.devices) {
    const level = levels.size ? (levels.get(deviceKey(d.gateway, d.id)) ?? 0) : 0;
    add(kinds, d.kind ?? '', kindLabel, level);
    add(districts, d.location?.district ?? '', districtLabel, level);
  }
  const sorted = (rows: Map<string, Row>) => [...rows.values()].sort((a, b) => b.worst - a.worst || b.alarming - a.alarming || b.devices - a.devices);
  return { byKind: sorted(kinds), byDistrict: sorted(districts) };
}

export function Counts() {
  useTopic('registry', 'alarms');
  const { byKind, byDistrict } = groups();
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
      {table(t('map.byKind'), byKind, 'counts-kind')}
      {table(t('map.byDistrict'), byDistrict, 'counts-district')}
    </div>
  );
}
