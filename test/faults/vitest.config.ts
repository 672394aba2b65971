import { defineConfig } from 'vitest/config';
import main from '../../vitest.config.ts';

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    // Scenarios stop the database server, kill processes and measure memory: one file at a time, in one worker.
    maxWorkers: 1,
    fileParallelism: false,
    // The soak runs for a minute and every scenario waits out visibility timeouts and back-offs.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    env: main.test?.env ?? {},
  },
});
