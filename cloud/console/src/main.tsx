/**
 * The operator console's entry, kept small: styles, the overview's first requests, then the app.
 *
 *   entry (this file, a few kB) ─▶ token from #token= or this tab's session ─▶ the map's clustering worker ─▶ api.prefetch(/console, /alarms, /gateways, /devices?format=columns…)
 *                               └▶ import(App) (its chunk is already loading: a modulepreload link in index.html) ─▶ render into #app
 *
 * So the server answers while the browser loads and parses the app's code, instead of after.
 * The token goes in the Authorization header as on every call, never into a URL; App takes it
 * out of the address bar as before.
 */
import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { render } from 'preact';
import { overviewPaths, prefetch } from './api.js';
import { savedToken, tokenFromHash } from './session.js';
import { currentLang } from './i18n/index.js';
import { startClusterWorker } from './map/clusters.js';

const token = tokenFromHash(location.hash) ?? savedToken();
// The map's worker first: its file would otherwise be served after the answers asked for here.
if (token) startClusterWorker();
if (token) prefetch(token, overviewPaths);
document.documentElement.lang = currentLang();
const { App } = await import('./components/App.js');
render(<App />, document.getElementById('app')!);
