/** The overview: map first, the alarm console beside it (below on a phone), counts per lifeline and district. */
import { MapView } from './MapView.js';
import { AlarmList } from './AlarmList.js';
import { Counts } from './Counts.js';

export function Overview() {
  return (
    <div class="overview">
      <MapView />
      <aside class="side">
        <AlarmList compact />
        <Counts />
      </aside>
    </div>
  );
}
