/**
 * The operator console's build: TypeScript + Preact (JSX) ─▶ cloud/console/dist,
 * which the cloud serves at `/` (cloud/src/api/server.ts). No CDN: Leaflet,
 * uPlot, gcoord and the Jining district outlines are bundled; the CSP allows
 * nothing inline, so the build emits files only (no inlined modulepreload script).
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
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
