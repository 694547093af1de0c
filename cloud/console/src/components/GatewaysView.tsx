/**
 * Gateways: online, last seen, backlog depth and age, clock offset, rejected
 * batches; for a technician, running vs desired config, the last apply result,
 * and a config editor whose push shows the cloud's validation errors inline; for an operator and up,
 * what the readings take on the cloud's disk (StorageView).
 */
import { fmtDuration, fmtNumber, fmtTime, t } from '../i18n/index.js';
import { store, useTopic } from '../store.js';
import { href } from '../route.js';
import { can } from '../api.js';
import { GatewayConfig } from './GatewayConfig.js';
import { StorageView } from './StorageView.js';
import { LEVEL_COLOURS } from './MapView.js';

export function GatewaysView(p: { selected?: string }) {
  useTopic('registry', 'gateways', 'alarms');
  const technician = can(store.info?.user.role, 'technician');
  const operator = can(store.info?.user.role, 'operator');
  return (
    <div class="gateways">
      <div class="table-wrap">
        <table class="gw-table" data-testid="gateways">
          <thead>
            <tr>
              <th>{t('gw.title')}</th>
              <th>{t('gw.online')}</th>
              <th>{t('gw.lastSeen')}</th>
              <th>{t('gw.backlog')}</th>
              <th>{t('gw.backlogAge')}</th>
              <th>{t('gw.clock')}</th>
              <th>{t('gw.rejects')}</th>
              <th>{t('gw.devices')}</th>
            </tr>
          </thead>
          <tbody>
            {store.gateways.map((g) => {
              const level = store.gatewayLevel.get(g.id) ?? 0;
              return (
                <tr class={`${p.selected === g.id ? 'selected ' : ''}level-${level}`} data-gateway={g.id}>
                  <td>
                    <span class="dot" style={{ background: LEVEL_COLOURS[level] }} />
                    <a href={href.gateways(g.id)}>{g.name || g.id}</a> <small class="ids">{g.id}</small>
                  </td>
                  <td class={g.online ? 'ok' : 'bad'}>{g.online ? t('device.online') : t('device.offline')}</td>
                  <td>{fmtTime(g.lastSeen)}</td>
                  <td class="num">{fmtNumber(g.backlog?.depth ?? null, null, 0)}</td>
                  <td class="num">{fmtDuration(g.backlog?.ageMs ?? null)}</td>
                  <td class="num">{fmtDuration(g.clockOffsetMs)}</td>
                  <td class={`num${g.sync.faulty ? ' bad' : ''}`} title={g.sync.lastRejectReason ?? ''}>
                    {g.sync.rejects}
                  </td>
                  <td class="num">{g.devices}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {p.selected && technician && <GatewayConfig key={p.selected} gateway={p.selected} />}
      {operator && <StorageView />}
    </div>
  );
}
