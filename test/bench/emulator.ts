/**
 * The SQS emulator in a process of its own, as SQS is a service of its own: the consumer
 * under test does not share its event loop, and the floor and the consumer meet the same
 * server. Loads the project's fauxqs fixes, as the local cloud and the tests do.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { SQSClient } from '@aws-sdk/client-sqs';

export const region = 'us-east-1';

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const fixes = new URL('../../shared/local/fauxqs-fixes.ts', import.meta.url).href;
  // The emulator ends when its parent does: its stdin closes then, however the parent ended.
  const script = `await import(${JSON.stringify(fixes)}); const { startFauxqs } = await import('fauxqs'); const s = await startFauxqs({ port: 0, logger: false }); process.stdin.on('end', () => process.exit(0)).resume(); console.log(s.port);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    exited.then(([code]) => Promise.reject(new Error(`the SQS emulator exited (${String(code)}) before it listened`))),
  ])) as [string];
  return {
    endpoint: `http://127.0.0.1:${Number(line)}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}

/** A client of the emulator, one per role (producer, consumer, floor) so their requests are counted apart. */
export function emulatorClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}
