/**
 * What the readings take on the cloud's disk (GET /storage, operator and up): the last 30 days'
 * totals, then one row per UTC day (its districts added up), newest first: readings and bytes
 * still in rows and compressed into blocks, and the ratio of all-rows to what they take now.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Storage } from '../api.js';
import { fmtNumber, t } from '../i18n/index.js';

/** Bytes in the largest binary unit that keeps a number ≥ 1 (B, KiB, MiB, GiB, TiB). */
export function fmtBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return fmtNumber(v, units[i], i === 0 ? 0 : 1);
}

interface Day {
  day: string;
  hot: { readings: number; bytes: number };
  cold: { readings: number; bytes: number };
}

/** The report's rows added up per day, newest first. */
export function storageByDay(s: Storage): Day[] {
  const days = new Map<string, Day>();
  for (const r of s.days) {
    const d = days.get(r.day) ?? { day: r.day, hot: { readings: 0, bytes: 0 }, cold: { readings: 0, bytes: 0 } };
    d.hot.readings += r.hot.readings;
    d.hot.bytes += r.hot.bytes;
    d.cold.readings += r.cold.readings;
    d.cold.bytes += r.cold.bytes;
    days.set(r.day, d);
  }
  return [...days.values()].sort((a, b) => (a.day < b.day ? 1 : -1));
}

export function StorageView() {
  const [report, setReport] = useState<Storage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .storage()
      .then(setReport)
      .catch((e) => setError(String(e.message)));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!report) return <p class="empty">{t('common.loading')}</p>;
  const ratio = (d: Day) => {
    const now = d.hot.bytes + d.cold.bytes;
    return now ? ((d.hot.readings + d.cold.readings) * report.hotBytesPerReading) / now : 1;
  };
  return (
    <section class="storage" data-testid="storage">
      <h2>{t('st.title')}</h2>
      <p class="storage-total">
        {t('st.total')}: {fmtNumber(report.total.readings, null, 0)} {t('st.readings')} · {fmtBytes(report.total.bytes)} · {t('st.perReading')} {fmtNumber(report.total.bytesPerReading, 'B', 1)}
      </p>
      <div class="table-wrap">
        <table class="storage-days">
          <thead>
            <tr>
              <th>{t('st.day')}</th>
              <th class="num">{`${t('st.hot')} ${t('st.readings')}`}</th>
              <th class="num">{`${t('st.hot')} ${t('st.size')}`}</th>
              <th class="num">{`${t('st.cold')} ${t('st.readings')}`}</th>
              <th class="num">{`${t('st.cold')} ${t('st.size')}`}</th>
              <th class="num">{t('st.ratio')}</th>
            </tr>
          </thead>
          <tbody>
            {storageByDay(report).map((d) => (
              <tr data-day={d.day}>
                <td>{d.day}</td>
                <td class="num">{fmtNumber(d.hot.readings, null, 0)}</td>
                <td class="num">{fmtBytes(d.hot.bytes)}</td>
                <td class="num">{fmtNumber(d.cold.readings, null, 0)}</td>
                <td class="num">{fmtBytes(d.cold.bytes)}</td>
                <td class="num">{fmtNumber(ratio(d), '×', 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
