/**
 * The operator console's build: TypeScript + Preact (JSX) ─▶ cloud/console/dist,
 * which the cloud serves at `/` (cloud/src/api/server.ts). No CDN: Leaflet,
 * uPlot, gcoord and the Jining district outlines are bundled; the CSP allows
 * nothing inline, so the build emits files only (no inlined modulepreload script).
 *
 * Two chunks load at once: the entry (main.tsx: a few kB that start the overview's API
 * requests) and the app it imports dynamically, named in index.html as a modulepreload link
 * so its download starts with the page's, not after the entry has run. The device, gateway and
 * alarm pages (uPlot with them) are chunks of their own, loaded when first opened.
 */
import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';

/** index.html: a modulepreload link for the app chunk main.tsx imports (and the chunks it imports), a preload for the map's worker. */
function preloadApp(): Plugin {
  return {
    name: 'lifeline-preload-app',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        if (!ctx.bundle) return [];
        const chunks = Object.values(ctx.bundle).filter((c) => c.type === 'chunk');
        const app = chunks.find((c) => c.isDynamicEntry && c.moduleIds.some((m) => m.endsWith('/components/App.tsx')));
        if (!app) throw new Error('vite.config.ts preloadApp: no chunk for components/App.tsx (main.tsx must import it dynamically)');
        const tags = [app.fileName, ...app.imports].filter((f) => !html.includes(f)).map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${f}` }, injectTo: 'head' as const }));
        // The map's worker: Chromium fetches a worker's script at low priority, after the overview's API requests
        // (seconds under load); a modulepreload asks for it with the page's scripts and leaves it in the HTTP cache
        // (a plain preload does too, but Chromium warns of it as unused: the worker's fetch is not the page's).
        const worker = Object.keys(ctx.bundle).find((f) => /(^|\/)cluster-worker-[\w-]+\.js$/.test(f));
        if (!worker) throw new Error('vite.config.ts preloadApp: no cluster-worker chunk (map/clusters.ts must start it with new Worker(new URL(...)))');
        return [...tags, { tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${worker}` }, injectTo: 'head' as const }];
      },
    },
  };
}

export default defineConfig({
  plugins: [preloadApp()],
  root: fileURLToPath(new URL('.', import.meta.url)),
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // The map's clustering worker (components/MapView.tsx) is an ES module like the rest.
  worker: { format: 'es' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Files only: a data: URL or inline script would need a weaker CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
