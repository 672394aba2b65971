import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** Debian's Python, which has Celery 5, SQLAlchemy, psycopg2 and boto3 from apt (the pyenv Python on PATH has none of them). */
export const debianPython = '/usr/bin/python3';

const needed = ['celery', 'kombu', 'sqlalchemy', 'psycopg2', 'boto3'];

/**
 * Why real Celery cannot be driven here, or undefined when it can. CI installs it
 * (`.ci/run`: `apt-get install python3-celery python3-sqlalchemy python3-psycopg2 python3-boto3`);
 * a machine without it skips these tests, saying so.
 */
export const celeryUnavailable: string | undefined = (() => {
  const probe = spawnSync(debianPython, ['-c', `import ${needed.join(', ')}`], { encoding: 'utf8' });
  if (probe.error) return `${debianPython} cannot run (${probe.error.message}): install Debian's python3 with python3-celery python3-sqlalchemy python3-psycopg2 python3-boto3`;
  if (probe.status !== 0) return `${debianPython} lacks ${needed.join('/')} (${probe.stderr.trim().split('\n').at(-1)}): apt-get install python3-celery python3-sqlalchemy python3-psycopg2 python3-boto3`;
  return undefined;
})();

export interface CeleryRun<Answer> {
  /** Resolves once the script has loaded Celery and connected (its `{"ready": true}` line). */
  readonly ready: Promise<void>;
  /** The script's last line, parsed; rejects with its stderr when it fails or runs past the timeout. */
  readonly answer: Promise<Answer>;
}

/**
 * Runs `test/fixtures/celery/<script>` under Debian's Python with `request` as JSON on stdin.
 * The script prints `{"ready": true}` when set up (so a test can start work Python must watch
 * from the beginning) and then its answer as one JSON line.
 */
export function runCeleryScript<Answer>(script: string, request: unknown, options: { timeoutMs?: number } = {}): CeleryRun<Answer> {
  if (celeryUnavailable) throw new Error(celeryUnavailable);
  const path = fileURLToPath(new URL(`../fixtures/celery/${script}`, import.meta.url));
  const child = spawn(debianPython, [path], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const lines: unknown[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const parsed = JSON.parse(line) as { ready?: boolean };
    if (lines.length === 0 && parsed.ready) onReady();
    lines.push(parsed);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const answer = new Promise<Answer>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && lines.length > 1) return resolve(lines.at(-1) as Answer);
      const why = signal ? `was killed (${signal}${signal === 'SIGKILL' ? `, over ${timeoutMs} ms` : ''})` : `exited with ${code}`;
      reject(new Error(`${script} ${why}:\n${stderr.join('').trim().split('\n').slice(-15).join('\n')}`));
    });
  });
  // A script that fails before it is ready must not leave a test waiting on `ready`.
  answer.catch(() => onReady());
  child.stdin.end(JSON.stringify(request));
  return { ready, answer };
}
