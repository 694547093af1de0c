// The operations dashboard (index.html). A file, not inline: the CSP allows scripts from this origin only.
'use strict';
// The token arrives in the URL fragment (never sent to the server in logs) or is typed in.
const frag = new URLSearchParams(location.hash.slice(1));
if (frag.get('token')) { sessionStorage.setItem('token', frag.get('token')); history.replaceState(null, '', location.pathname); }
const app = document.getElementById('app');
const statusEl = document.getElementById('status');
let selected = null;
const charts = new Map();

async function api(path, init) {
  const res = await fetch(path, { ...(init || {}), headers: { authorization: 'Bearer ' + sessionStorage.getItem('token'), ...(init && init.body ? { 'content-type': 'application/json' } : {}) } });
  if (res.status === 401) { sessionStorage.removeItem('token'); login('That token was refused.'); throw new Error('unauthorized'); }
  if (!res.ok) throw new Error((await res.json()).message);
  return res.json();
}

function login(msg) {
  app.innerHTML = `<form class="login"><h2>Operator sign-in</h2><p>${msg || 'Paste an API token (printed by <code>pnpm start</code>).'}</p>
    <input name="t" type="password" autocomplete="off" placeholder="token"><button>Sign in</button></form>`;
  app.querySelector('form').onsubmit = (e) => { e.preventDefault(); sessionStorage.setItem('token', e.target.t.value.trim()); start(); };
}

function age(ts) {
  if (!ts) return ['never', 'dead'];
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000));
  return [s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago', s < 30 ? 'fresh' : s < 600 ? 'stale' : 'dead'];
}

function layout() {
  app.innerHTML = `<main><div class="col">
      <section><h2>Devices</h2><table><thead><tr><th>Device</th><th>Kind</th><th>Gateway</th><th>Last reading</th></tr></thead><tbody id="devices"></tbody></table></section>
      <section><h2>Districts</h2><table><thead><tr><th>District</th><th>Kind</th><th>Devices</th><th>Online</th><th>Active alarms</th></tr></thead><tbody id="districts"></tbody></table></section>
    </div><div class="col">
      <section><h2 id="title">Select a device</h2><div class="charts" id="charts"><div class="empty">Pick a device on the left to see its points.</div></div></section>
      <section><h2>Alarms <span class="note" id="alarm-note"></span></h2><table><thead><tr><th>Level</th><th>State</th><th>Device</th><th>Cause</th><th>Since</th><th></th></tr></thead><tbody id="alarms"></tbody></table></section>
    </div></main>`;
}

const levelNames = ['normal', 'blue IV', 'yellow III', 'orange II', 'red I'];

async function refreshAlarms() {
  const alarms = await api('/api/v1/alarms?state=active_unacked,active_acked,cleared_unacked,shelved&limit=50');
  const tbody = document.getElementById('alarms');
  tbody.innerHTML = alarms.length ? '' : '<tr><td colspan="6" class="empty">No alarms.</td></tr>';
  for (const a of alarms) {
    const tr = document.createElement('tr');
    const canAck = a.state === 'active_unacked' || a.state === 'cleared_unacked';
    tr.innerHTML = `<td><span class="lvl lvl${a.level}">${levelNames[a.level] || a.level}</span></td><td>${esc(a.state.replace('_', ' '))}</td>
      <td>${esc(a.device)}<br><span class="note">${esc(a.district || '')} ${esc(a.kind || '')}</span></td><td class="cause">${esc(a.cause)}</td>
      <td>${age(a.since)[0]}</td><td>${canAck ? '<button class="small">Ack</button>' : ''}</td>`;
    const btn = tr.querySelector('button');
    if (btn) btn.onclick = async (e) => {
      e.stopPropagation();
      try { await api(`/api/v1/alarms/${a.id}/ack`, { method: 'POST', body: '{}' }); btn.replaceWith('sent'); }
      catch (err) { document.getElementById('alarm-note').textContent = err.message; }
    };
    tbody.appendChild(tr);
  }
}

async function refreshDistricts() {
  const rows = await api('/api/v1/summary');
  document.getElementById('districts').innerHTML = rows.map((r) => `<tr><td>${esc(r.district)}</td><td>${esc(r.kind)}</td><td>${r.devices}</td>
    <td><span class="dot ${r.online === r.devices ? 'fresh' : r.online ? 'stale' : 'dead'}"></span>${r.online}</td>
    <td>${r.activeAlarms ? `<span class="lvl lvl${r.maxLevel}">${r.activeAlarms}</span>` : '0'}</td></tr>`).join('') || '<tr><td colspan="5" class="empty">No devices yet.</td></tr>';
}

async function refreshDevices() {
  const devices = await api('/api/v1/devices');
  const tbody = document.getElementById('devices');
  tbody.innerHTML = '';
  for (const d of devices) {
    const [text, cls] = age(d.lastReadingTs);
    const tr = document.createElement('tr');
    if (selected && selected.id === d.id && selected.gateway === d.gateway) tr.className = 'sel';
    tr.innerHTML = `<td>${esc(d.id)}</td><td>${esc(d.kind || '')}</td><td>${esc(d.gateway)}</td><td><span class="dot ${cls}"></span>${text}</td>`;
    tr.onclick = () => { selected = d; charts.clear(); document.getElementById('charts').innerHTML = ''; refreshDevices(); refreshCharts(); };
    tbody.appendChild(tr);
  }
  if (!selected && devices.length) { selected = devices[0]; refreshDevices(); refreshCharts(); }
  statusEl.textContent = `${devices.length} devices · updated ${new Date().toLocaleTimeString()}`;
}

async function refreshCharts() {
  if (!selected) return;
  document.getElementById('title').textContent = `${selected.id} (${selected.gateway}) · ${selected.profile || 'unknown profile'} · last 10 min`;
  const box = document.getElementById('charts');
  box.querySelector('.empty')?.remove();
  const to = Date.now(), from = to - 600_000;
  for (const p of selected.points || []) {
    const rows = await api(`/api/v1/readings?gateway=${encodeURIComponent(selected.gateway)}&device=${encodeURIComponent(selected.id)}&point=${encodeURIComponent(p.name)}&from=${from}&to=${to}`);
    const xs = rows.map((r) => r.ts / 1000), ys = rows.map((r) => r.value);
    let c = charts.get(p.name);
    if (!c) {
      const div = document.createElement('div');
      div.className = 'chart';
      div.innerHTML = `<div class="title"><span>${esc(p.name)}</span><span class="value"></span></div>`;
      box.appendChild(div);
      const plot = new uPlot({ width: 300, height: 110, legend: { show: false }, cursor: { show: false },
        axes: [{ stroke: '#8b9bab', grid: { stroke: '#263544' } }, { stroke: '#8b9bab', grid: { stroke: '#263544' }, size: 50 }],
        series: [{}, { stroke: '#58a6ff', width: 1.5 }] }, [xs, ys], div);
      c = { div, plot };
      charts.set(p.name, c);
    } else c.plot.setData([xs, ys]);
    const last = ys.length ? ys[ys.length - 1] : null;
    c.div.querySelector('.value').textContent = last === null ? '—' : `${+last.toFixed(4)} ${p.unit || ''}`;
  }
}

function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }

async function tick() { try { await refreshDevices(); await refreshCharts(); await refreshAlarms(); await refreshDistricts(); } catch (e) { statusEl.textContent = 'error: ' + e.message; } }
function start() { layout(); tick(); }
if (!sessionStorage.getItem('token')) login(); else start();
setInterval(() => { if (sessionStorage.getItem('token') && document.getElementById('devices')) tick(); }, 2000);
