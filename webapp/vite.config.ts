import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The build goes into the Go package that embeds it (internal/webapp),
// served at /app/. File names carry their content's hash, so the server
// lets browsers keep /app/assets/ for a year.
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: '../internal/webapp/dist',
    emptyOutDir: true,
    // The Go server serves no source maps and the page loads nothing inline
    // (its Content-Security-Policy forbids it).
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    // npm run dev: the API runs on :8080 (go run .).
    proxy: { '/query': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
