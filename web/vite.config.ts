/**
 * The pages: four entries (citizen `/`, `/agent`, `/dept`, `/supervisor`) built from web/src to web/dist. Shared
 * code (Preact, the API client, the stylesheet) lands in shared chunks, so the citizen on a cheap phone never
 * downloads the supervisor's charts. Built by scripts/build-web.ts (`npm run build:web`, and `npm start` when stale).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(here, 'src');

export default defineConfig({
  root: src,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: resolve(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 250,
    rolldownOptions: {
      input: {
        citizen: resolve(src, 'index.html'),
        agent: resolve(src, 'agent/index.html'),
        dept: resolve(src, 'dept/index.html'),
        supervisor: resolve(src, 'supervisor/index.html'),
      },
    },
  },
});
