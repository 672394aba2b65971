/**
 * `npm start`: the local cloud in the foreground until Ctrl-C.
 *
 * Environment: LOCAL_CLOUD_PORT (4566; 0 picks a free port), LOCAL_CLOUD_DIR (.local),
 * AWS_ENDPOINT_URL (an external SQS instead of the embedded one), DATABASE_URL
 * (PostgreSQL instead of PGlite under LOCAL_CLOUD_DIR), STAGE (local).
 */
import { startLocalCloud } from './cloud.ts';

const cloud = await startLocalCloud({
  port: Number(process.env.LOCAL_CLOUD_PORT ?? 4566),
  dataDir: process.env.LOCAL_CLOUD_DIR ?? '.local',
  onError: (queue, error) => console.error(`[${queue}] poller error: ${error instanceof Error ? error.message : String(error)}`),
});

const queueList = Object.values(cloud.queues).map((queue) => `${queue.name}=${queue.url}`).join(' ');
console.log(`local cloud ready · SQS ${cloud.endpoint} · ${queueList} · results in ${cloud.database} · Ctrl-C stops`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log('stopping: finishing invocations under way (Ctrl-C again to quit at once)');
    cloud.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
