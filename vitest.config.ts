import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fault injection stops servers and kills processes: `npm run test:faults` runs it on its own.
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration files each start an emulator and a database, and spend much of their time
    // waiting on queues and timers: three files at once keep two cores busy.
    maxWorkers: 3,
    // Tests assert on rows and queues; set POWERTOOLS_LOG_LEVEL=INFO to watch the consumers' logs.
    env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
