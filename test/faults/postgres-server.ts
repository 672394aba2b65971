import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { sleep } from './harness.ts';

const run = promisify(execFile);

/** The local PostgreSQL cluster CI starts (`.ci/run`): the highest version under /etc/postgresql, cluster `main`. */
export function localCluster() {
  const version = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1)!;
  const control = (action: 'start' | 'stop') => run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action]);
  const ready = async () => run('pg_isready', ['-h', '127.0.0.1', '-p', '5432']).then(() => true, () => false);
  return {
    version,
    ready,
    stop: () => control('stop'),
    /** Starts the cluster unless it runs, and waits until it accepts connections. */
    async start(timeoutMs = 60_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!(await ready())) {
        if (Date.now() > end) throw new Error(`PostgreSQL ${version} did not accept connections within ${timeoutMs} ms`);
        await control('start').catch(() => undefined); // "already running" (or still stopping): look again
        await sleep(250);
      }
    },
  };
}
