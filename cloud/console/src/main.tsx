/** The operator console's entry: styles, then the app into #app. */
import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { render } from 'preact';
import { App } from './components/App.js';
import { currentLang } from './i18n/index.js';

document.documentElement.lang = currentLang();
render(<App />, document.getElementById('app')!);
