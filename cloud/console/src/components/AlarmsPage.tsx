/** The alarm console page: the list, and the selected alarm beside it (below it on a phone). */
import { AlarmList } from './AlarmList.js';
import { AlarmDetail } from './AlarmDetail.js';

export function AlarmsPage(p: { selected?: number }) {
  return (
    <div class={p.selected ? 'alarms-page with-detail' : 'alarms-page'}>
      <AlarmList selected={p.selected} />
      {p.selected !== undefined && <AlarmDetail key={p.selected} id={p.selected} />}
    </div>
  );
}
