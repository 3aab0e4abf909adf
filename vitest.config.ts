import { defineConfig } from 'vitest/config';

// Integration tests share the machine's Postgres and Redis; each file makes its own database or key prefix.
// `dom` runs the web app's hooks and components in happy-dom; web/test holds the real-Chromium end-to-end tests.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'core/src/**/*.test.ts',
            'realtime/src/**/*.test.ts',
            'bot/src/**/*.test.ts',
            'server/src/**/*.test.ts',
            'web/src/**/*.test.ts',
            '*/test/**/*.test.ts',
            'e2e/**/*.test.ts',
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Waiting for a live update is not a performance assertion: give loaded CI machines room.
          expect: { poll: { timeout: 10_000 } },
        },
      },
      {
        test: {
          name: 'dom',
          environment: 'happy-dom',
          include: ['web/src/**/*.test.tsx'],
          testTimeout: 30_000,
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
