import { defineConfig } from 'vite';

// The gateway embeds dist/ (scripts/embed-web.py). `npm run dev` serves the app with hot reload
// and sends /api and /v1 to a gateway running on the default port.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false }, // no inline script: the CSP allows only our files
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3001', '/v1': 'http://127.0.0.1:3001' },
  },
});
