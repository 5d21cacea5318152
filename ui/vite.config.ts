import { defineConfig } from 'vite';

// The built UI is served by `vetdesk serve` at `/` (and later embedded by the
// desktop shell). No inline scripts or styles, so it runs under a strict CSP.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    // desktop.html: the desktop app's first-start and database page;
    // recovery.html: its screen for a damaged database (src-tauri/).
    rollupOptions: {
      input: { main: 'index.html', desktop: 'desktop.html', recovery: 'recovery.html' },
    },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/health': 'http://127.0.0.1:8080' },
  },
});
