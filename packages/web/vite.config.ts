import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Builds the app into `dist/`: `index.html` (served no-cache by `gatehouse serve`, which fills in
 * its per-response CSP nonce) and content-hashed files under `dist/assets/` (cached for a year).
 * `npm run dev -w @gatehouse/web` serves it with the API proxied to a local `gatehouse serve`.
 */
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', assetsDir: 'assets', emptyOutDir: true, chunkSizeWarningLimit: 900 },
  server: { proxy: { '/api': 'http://127.0.0.1:4600' } },
});
