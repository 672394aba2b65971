/**
 * `npm start`: the local cloud in the foreground until Ctrl-C.
 *
 * Environment: LOCAL_CLOUD_HOST (127.0.0.1: every port listens on loopback only),
 * LOCAL_CLOUD_PORT (4566; 0 picks a free port), DASHBOARD_PORT (5555),
 * WEBHOOK_PORT (4242), LOCAL_CLOUD_DIR (.local), AWS_ENDPOINT_URL (an external SQS/S3
 * instead of the embedded one), DATABASE_URL (PostgreSQL instead of PGlite), STAGE (local),
 * SCHEDULE_TIME_SCALE (1; 60 runs the schedules, one-time ETA schedules included, sixty times
 * faster), TASK_ETA_SCHEDULE_GROUP and TASK_ETA_ROLE_ARN (<stage>-task-etas and its role),
 * CELERY_RESULTS (off; on also writes Celery's celery_taskmeta rows). With no OPENAI_API_KEY
 * or OPENAI_BASE_URL the AI tasks call a local OpenAI stand-in, and with no STRIPE_API_KEY or
 * STRIPE_API_BASE the billing tasks a local Stripe stand-in in test mode (`stand-ins/`).
 */
import { listenHost } from './guard.ts';
import { registerModuleFormatCache } from './module-format.ts';

// Before the first import of the rest: the hooks apply only to modules resolved after them.
registerModuleFormatCache();
const { startLocalCloud } = await import('./cloud.ts');

// The last line of defence: every listener answers its own errors, and what still slips
// through is reported, not allowed to end every queue, consumer and database at once.
process.on('uncaughtException', (error) => console.error('[local cloud] uncaught, kept running:', error));
process.on('unhandledRejection', (reason) => console.error('[local cloud] unhandled rejection, kept running:', reason));

const env = process.env;
const host = listenHost(env);
if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
  console.warn(`LOCAL_CLOUD_HOST=${host}: the emulator, dashboard and webhook listen beyond this machine, without authentication; anyone who can reach ${host} can send, read and delete tasks and files`);
}

const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
const started = performance.now();
const embedded = !env.AWS_ENDPOINT_URL;
const cloud = await startLocalCloud({
  env,
  port: port('LOCAL_CLOUD_PORT', 4566),
  dashboardPort: port('DASHBOARD_PORT', 5555),
  webhookPort: port('WEBHOOK_PORT', 4242),
  dataDir: env.LOCAL_CLOUD_DIR ?? '.local',
  timeScale: Number(env.SCHEDULE_TIME_SCALE ?? 1),
  standIns: true,
  onError: (source, error) => console.error(`[${source}] ${error instanceof Error ? error.message : String(error)}`),
});

const queueList = Object.values(cloud.queues).map((queue) => `${queue.name}=${queue.url}`).join(' ');
console.log(
  `local cloud ready in ${((performance.now() - started) / 1000).toFixed(1)} s · dashboard ${cloud.dashboardUrl} · SQS+S3 ${cloud.endpoint} · ` +
    `Stripe webhook ${cloud.webhookUrl} · bucket ${cloud.bucket} · ${queueList} · results in ${cloud.database}` +
    `${cloud.restoredMessages ? ` · ${cloud.restoredMessages} queued messages restored` : ''}` +
    `${cloud.restoredSchedules ? ` · ${cloud.restoredSchedules} schedules restored` : ''}` +
    `${embedded ? ' · SQS over the JSON and query protocols, EventBridge Scheduler on the same endpoint' : ''}` +
    `${cloud.etaScheduleGroup ? ` · ETAs beyond 15 min as one-time schedules in ${cloud.etaScheduleGroup}` : ''}` +
    `${cloud.celeryResults ? ' · Celery results in celery_taskmeta' : ''}` +
    `${cloud.standIns.openai ? ` · OpenAI: local stand-in ${cloud.standIns.openai}, deterministic answers (set OPENAI_API_KEY or OPENAI_BASE_URL for the real API)` : ''}` +
    `${cloud.standIns.stripe ? ` · Stripe: local stand-in ${cloud.standIns.stripe}, test mode, any sk_test_ key, events signed to the webhook (set STRIPE_API_KEY or STRIPE_API_BASE for the real API)` : ''}` +
    ' · Ctrl-C stops',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log('stopping: finishing invocations under way and saving queued messages and schedules (Ctrl-C again to quit at once)');
    cloud.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
