import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Builds the app into `dist/`: `index.html` (served no-cache by `gatehouse serve`, which fills in
 * its per-response CSP nonce) and content-hashed files under `dist/assets/` (cached for a year),
 * each also written brotli- and gzip-compressed, which the server sends to clients that accept
 * them. `npm run dev -w @gatehouse/web` serves it with the API proxied to a local `gatehouse serve`.
 */
export default defineConfig({
  plugins: [react(), precompressed()],
  build: { outDir: 'dist', assetsDir: 'assets', emptyOutDir: true, chunkSizeWarningLimit: 900 },
  server: { proxy: { '/api': 'http://127.0.0.1:4600' } },
});

/** `.br` and `.gz` beside every asset worth compressing, made once at build time. */
function precompressed(): Plugin {
  return {
    name: 'gatehouse-precompressed',
    apply: 'build',
    writeBundle(options) {
      const assets = join(options.dir ?? 'dist', 'assets');
      for (const file of readdirSync(assets)) {
        if (!/\.(js|css|svg)$/.test(file)) continue;
        const path = join(assets, file);
        const content = readFileSync(path);
        if (content.length < 1024) continue;
        writeFileSync(
          `${path}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
        );
        writeFileSync(`${path}.gz`, gzipSync(content, { level: 9 }));
      }
    },
  };
}
