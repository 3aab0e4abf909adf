import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The built app is served by realtime/ from web/dist; `npm run dev -w web` proxies the API to a running server.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': 'http://localhost:5000',
      '/ws': { target: 'ws://localhost:5000', ws: true },
    },
  },
});
