/**
 * PGlite as the local cloud runs it: PostgreSQL compiled to WebAssembly, whose memory grows
 * and never shrinks, so every setting that lets the server touch memory once sets the
 * process's floor for good.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Server settings for one embedded user. Stock PostgreSQL sizes itself for a hundred
 * connections and a dedicated machine; here there is one backend in the same process:
 * 16 MB of buffers hold the result store's hot pages (the operating system's page cache
 * holds the rest, as it does for a real server), and the per-operation budgets are those a
 * small task store needs (no sort or index build here comes near them).
 */
export const pgliteSettings = {
  shared_buffers: '16MB',
  wal_buffers: '512kB',
  work_mem: '2MB',
  maintenance_work_mem: '16MB',
  temp_buffers: '1MB',
  max_connections: '4',
  max_prepared_transactions: '0',
} as const;

/** The settings as `-c name=value` parameters; initdb is told them too, so the postgresql.conf it writes agrees. */
export const initdbParams: readonly string[] = Object.entries(pgliteSettings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);

/** PGlite's own start parameters, then ours. */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, ...initdbParams];
}

/**
 * Creates PGlite's data directory in a process of its own when it does not exist yet.
 * In-process, PGlite runs initdb in a second PostgreSQL instance beside the one being
 * opened and the process's peak passes a gigabyte (WebAssembly memory is not returned
 * until the instance is collected); a child gives all of it back when it exits, and the
 * opener then finds an existing directory and starts in half a second. The child keeps
 * WebAssembly on V8's baseline compiler (see shared/local/node-flags.ts): it peaks near
 * 520 MiB instead of a gigabyte, and finishes sooner.
 */
export async function createDataDir(dataDir: string): Promise<void> {
  if (dataDir.includes('://') || existsSync(join(dataDir, 'PG_VERSION'))) return;
  const child = spawn(process.execPath, ['--liftoff-only', fileURLToPath(new URL('./pglite-initdb.ts', import.meta.url)), dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`initdb of ${dataDir} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
}

