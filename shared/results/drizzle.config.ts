import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./shared/results/schema.ts', './shared/billing/schema.ts', './shared/ai/schema.ts', './shared/data/schema.ts'],
  out: './shared/results/migrations',
});
