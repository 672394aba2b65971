import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './shared/results/schema.ts',
  out: './shared/results/migrations',
});
