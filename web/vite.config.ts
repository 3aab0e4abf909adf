import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The built app is served by realtime/ from web/dist; `npm run dev -w web` proxies the API to a running server.
// No source maps in the build: they would be public next to the scripts. Each page is its own chunk (App.tsx
// loads them lazily), so the board and the vote page never download the admin's code.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 300 },
  server: {
    proxy: {
      '/api': 'http://localhost:5000',
      '/ws': { target: 'ws://localhost:5000', ws: true },
    },
  },
});
