import { defineConfig, type ProxyOptions } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

/**
 * The console is a static single-page app. In development Vite serves it and forwards the two API
 * prefixes the way the console's own server does in production (server/serve.mjs), so the browser
 * only ever talks to one origin:
 *   /projection/* → MW_CONSOLE_PROJECTION_URL (query API)   /password/* → MW_CONSOLE_PASSWORD_URL
 */
const upstream = (name: string, url: string | undefined, fallback: string): ProxyOptions => ({
  target: url ?? fallback,
  changeOrigin: true,
  rewrite: (path: string) => path.replace(/^\/(projection|password)/, ''),
  // An unreachable service answers like the console's server does: 502 problem+json naming the setting.
  configure: (proxy) =>
    proxy.on('error', (error, _req, res) => {
      if (!('writeHead' in res) || res.headersSent) return;
      res.writeHead(502, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Bad Gateway',
          status: 502,
          detail: `the ${name} API at ${url ?? fallback} is unreachable (${error.message}); start it or set MW_CONSOLE_${name.toUpperCase()}_URL`,
        }),
      );
    }),
});

export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: { outDir: resolve(__dirname, '../../dist/console'), emptyOutDir: true, sourcemap: false },
  server: {
    port: Number(process.env['MW_CONSOLE_DEV_PORT'] ?? 7110),
    strictPort: true,
    proxy: {
      '/projection': upstream('projection', process.env['MW_CONSOLE_PROJECTION_URL'], 'http://127.0.0.1:7105'),
      '/password': upstream('password', process.env['MW_CONSOLE_PASSWORD_URL'], 'http://127.0.0.1:7104'),
    },
  },
});
