/**
 * `taskq`: Celery's `inspect`/`control` and Flower's history from the shell, against the
 * local cloud's API by default, or a deployed stage with `--stage`.
 */
import { parseArgs } from 'node:util';
import type { Environment } from '../config.ts';
import { reasonOf } from '../errors.ts';
import { options, usage, UsageError, type Plan, type Values } from './args.ts';
import { ApiError, HttpBackend, UnreachableError, type Backend } from './backend.ts';
import { bulkCommand } from './bulk-commands.ts';
import { taskCommand } from './commands.ts';
import { filterFields } from './filter.ts';
import { printable } from './format.ts';
import { operatorCommand } from './operator-commands.ts';

const global = ['url', 'stage', 'region', 'json', 'help'];
/** The options each command takes beyond the global ones. */
const accepted: Record<string, readonly string[]> = {
  send: ['payload', 'countdown', 'eta', 'expires', 'id', 'tenant', 'priority', 'wait', 'timeout'],
  result: ['wait', 'timeout'],
  revoke: ['reason', ...filterFields, 'dry-run'],
  retry: [...filterFields, 'dry-run'],
  queues: [],
  'dlq list': ['limit'],
  'dlq redrive': ['ids'],
  'dlq purge': ['yes'],
  history: [...filterFields, 'limit'],
  schedules: [],
  'schedules run': [],
  'inspect active': ['limit'],
  'inspect scheduled': ['limit'],
  'inspect reserved': ['limit'],
  'inspect registered': [],
  'inspect stats': ['minutes'],
  'control rate-limit': [],
  'control time-limit': [],
  'control concurrency': [],
  'control reset': [],
  'control pause': [],
  'control resume': [],
  purge: ['yes', ...filterFields, 'dry-run'],
};

/** Commands whose first argument names what they do. */
const withSubcommand: Record<string, string> = {
  dlq: 'dlq takes list, redrive or purge',
  inspect: 'inspect takes active, scheduled, reserved, registered or stats',
  control: 'control takes rate-limit, time-limit, concurrency, reset, pause or resume',
};

async function run(argv: string[], env: Environment, out: (text: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    out(usage);
    return values.help ? 0 : 2;
  }
  const [command, ...rest] = positionals;
  const sub = (Object.hasOwn(withSubcommand, command!) || (command === 'schedules' && rest[0] === 'run')) && rest[0];
  const name = sub ? `${command} ${rest[0]}` : command!;
  const args = sub ? rest.slice(1) : rest;
  const allowed = Object.hasOwn(accepted, name) ? accepted[name] : undefined;
  if (!allowed) throw new UsageError((Object.hasOwn(withSubcommand, command!) && withSubcommand[command!]) || `unknown command ${command}`);
  const stray = Object.keys(values).filter((key) => !global.includes(key) && !allowed.includes(key));
  if (stray.length > 0) throw new UsageError(`${name} does not take ${stray.map((s) => `--${s}`).join(', ')}`);
  if (values.url && values.stage) throw new UsageError('--url and --stage exclude each other');

  // Check every argument before reaching any endpoint.
  const plan = prepare(name, args, values);
  const backend: Backend = values.stage
    ? await (await import('./stage.ts')).stageBackend(values.stage, values.region)
    : new HttpBackend(values.url ?? env.TASKQ_URL ?? 'http://127.0.0.1:5555');
  try {
    return await plan(backend, values.json === true, out);
  } finally {
    await backend.close();
  }
}

function prepare(name: string, args: string[], values: Values): Plan {
  const plan = bulkCommand(name, args, values) ?? taskCommand(name, args, values) ?? operatorCommand(name, args, values);
  if (!plan) throw new UsageError(`unknown command ${name}`);
  return plan;
}

try {
  process.exitCode = await run(process.argv.slice(2), process.env, (text) => console.log(printable(text)));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`taskq: ${printable(error.message)}\n\n${usage}`);
    process.exitCode = 2;
  } else if (error instanceof UnreachableError || error instanceof ApiError) {
    console.error(`taskq: ${printable(error.message)}`);
    process.exitCode = 1;
  } else {
    console.error(`taskq: ${printable(reasonOf(error))}`);
    process.exitCode = 1;
  }
}
