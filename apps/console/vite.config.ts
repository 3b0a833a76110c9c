import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

/**
 * The console is a static single-page app. In development Vite serves it and forwards the two API
 * prefixes the way the console's own server does in production (server/serve.mjs), so the browser
 * only ever talks to one origin:
 *   /projection/* → MW_CONSOLE_PROJECTION_URL (query API)   /password/* → MW_CONSOLE_PASSWORD_URL
 */
const upstream = (url: string | undefined, fallback: string) => ({
  target: url ?? fallback,
  changeOrigin: true,
  rewrite: (path: string) => path.replace(/^\/(projection|password)/, ''),
});

export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: { outDir: resolve(__dirname, '../../dist/console'), emptyOutDir: true, sourcemap: false },
  server: {
    port: Number(process.env['MW_CONSOLE_DEV_PORT'] ?? 7110),
    strictPort: true,
    proxy: {
      '/projection': upstream(process.env['MW_CONSOLE_PROJECTION_URL'], 'http://127.0.0.1:7105'),
      '/password': upstream(process.env['MW_CONSOLE_PASSWORD_URL'], 'http://127.0.0.1:7104'),
    },
  },
});
