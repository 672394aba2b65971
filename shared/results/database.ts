import { fileURLToPath } from 'node:url';
import type { SQL } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { s3OverflowStore, type OverflowStore, type ResultsBucket } from './overflow.ts';
import { s3PayloadStore, type PayloadStore } from './payloads.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Where the result store lives (exactly one of the three), and where its rows' large values go. */
export type DatabaseTarget = (
  | {
      readonly kind: 'data-api';
      readonly resourceArn: string;
      readonly secretArn: string;
      readonly database: string;
      readonly region?: string;
      readonly endpoint?: string;
      /** Whether the environment has AWS credentials of its own (`Config.ownCredentials`); without them an `endpoint` gets an emulator's fixed ones. @default false */
      readonly ownCredentials?: boolean;
    }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string }
  | {
      readonly kind: 'pglite';
      readonly dataDir?: string;
      readonly schema?: string;
      /** A data directory image (`dumpDataDir()`) to start from: a migrated copy opens in a second, not three. */
      readonly image?: Blob;
    }
) & { readonly resultsBucket?: ResultsBucket };

export interface DatabaseOptions {
  /** A schema of its own (created if missing): tests and side-by-side stacks share one server. */
  readonly schema?: string;
  /** Called with every SQL statement sent: the benchmarks and the statement-budget test count them. */
  readonly onStatement?: (sql: string) => void;
}

/** Statements inside a transaction; `savepoint` nests one that can fail alone. */
export interface Transaction {
  rows<Row>(query: SQL): Promise<Row[]>;
  savepoint<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}

export interface Database {
  readonly db: Db;
  readonly target: DatabaseTarget['kind'];
  /** The schema holding the tables (`public` unless a schema was asked for). */
  readonly schema: string;
  /** The results bucket, for values too large for a row; without one they are refused. */
  readonly overflow: OverflowStore | undefined;
  /** Payloads too large for their message, in the same bucket under `task-payloads/`. */
  readonly payloads: PayloadStore | undefined;
  /**
   * Runs one statement and returns its rows as plain objects, whichever driver is underneath.
   * A `name` marks a statement whose text never changes and that runs again and again: on
   * node-postgres each connection prepares it once, so the server parses and plans it once.
   */
  rows<Row>(query: SQL, name?: string): Promise<Row[]>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

type Executor = Pick<Db, 'execute' | 'transaction'>;

function transactionOf(executor: Executor): Transaction {
  return {
    async rows<Row>(query: SQL) {
      return ((await executor.execute(query)) as unknown as { rows: Row[] }).rows;
    },
    savepoint: (work) => executor.transaction((inner) => work(transactionOf(inner as unknown as Executor))),
  };
}

const dialect = new PgDialect();

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** The types drizzle's PGlite driver keeps as text (timestamp, timestamptz, interval, date and their arrays, numeric[]). */
const drizzleTextTypes = Object.fromEntries([1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182].map((type) => [type, true]));

/**
 * Opens the result store through the driver its target needs. Drivers load lazily, so a
 * Lambda bundle that only speaks the Data API never initialises PGlite or node-postgres.
 */
export async function openDatabase(target: DatabaseTarget, options: DatabaseOptions = {}): Promise<Database> {
  const schemaName = options.schema ?? (target.kind === 'data-api' ? undefined : target.schema) ?? 'public';
  if (!identifier.test(schemaName)) throw new Error(`invalid schema name: ${schemaName}`);
  const logger = options.onStatement ? { logQuery: (query: string) => options.onStatement?.(query) } : undefined;
  const config = { schema, ...(logger ? { logger } : {}) };

  let db: Db;
  let close: () => Promise<void>;
  /** Runs a named statement prepared once, where the driver can. */
  let runPrepared: (<Row>(name: string, query: { sql: string; params: unknown[] }) => Promise<Row[]>) | undefined;
  switch (target.kind) {
    case 'data-api': {
      const [{ drizzle }, { RDSDataClient }, { localCredentials }] = await Promise.all([
        import('drizzle-orm/aws-data-api/pg'),
        import('@aws-sdk/client-rds-data'),
        import('../aws.ts'),
      ]);
      const client = new RDSDataClient({
        ...(target.region ? { region: target.region } : {}),
        ...(target.endpoint ? { endpoint: target.endpoint } : {}),
        ...localCredentials(target.endpoint, target.ownCredentials ?? false),
      });
      db = drizzle(client, { ...config, resourceArn: target.resourceArn, secretArn: target.secretArn, database: target.database }) as unknown as Db;
      if (schemaName !== 'public') throw new Error('a separate schema is not supported over the Data API');
      close = async () => client.destroy();
      break;
    }
    case 'postgres': {
      const [{ drizzle }, pg] = await Promise.all([import('drizzle-orm/node-postgres'), import('pg')]);
      const pool = new pg.default.Pool({
        connectionString: target.url,
        max: 4,
        ...(schemaName !== 'public' ? { options: `-c search_path=${schemaName}` } : {}),
      });
      // A server restart ends idle connections, and the pool reports each on its 'error' event,
      // which unheard would crash the process. The pool drops such clients and connects anew;
      // a query that was running fails on its own, and the batch backs off.
      pool.on('error', () => undefined);
      if (schemaName !== 'public') await pool.query(`create schema if not exists ${schemaName}`);
      db = drizzle(pool, config) as unknown as Db;
      close = () => pool.end();
      break;
    }
    case 'pglite': {
      const [{ drizzle }, { PgliteThread }, { createDataDir }] = await Promise.all([import('drizzle-orm/pglite'), import('./pglite-thread.ts'), import('./pglite.ts')]);
      if (target.dataDir && !target.image) await createDataDir(target.dataDir);
      const client = await PgliteThread.start({ ...(target.dataDir ? { dataDir: target.dataDir } : {}), ...(target.image ? { image: target.image } : {}) });
      if (schemaName !== 'public') {
        await client.exec(`create schema if not exists ${schemaName}; set search_path to ${schemaName}`);
      }
      db = drizzle({ client: client as never, ...config }) as unknown as Db;
      close = () => client.close();
      runPrepared = async <Row>(name: string, { sql: text, params }: { sql: string; params: unknown[] }) => {
        options.onStatement?.(text);
        // Timestamps, intervals and dates as text, as drizzle's own PGlite queries read them.
        return (await client.prepared(name, text, params, { rowMode: 'object', parsers: drizzleTextTypes })).rows as Row[];
      };
      break;
    }
  }
  // A session prepares a name once and runs that text under it ever after: another text under
  // the same name would run with the wrong parameters, so it is refused here, whoever sends it.
  const preparedTexts = new Map<string, string>();
  const sameTextUnder = (name: string, text: string) => {
    const known = preparedTexts.get(name);
    if (known === undefined) preparedTexts.set(name, text);
    else if (known !== text) throw new Error(`statement ${name} was prepared with another text: a statement whose text varies needs a name per text`);
  };
  return {
    db,
    target: target.kind,
    schema: schemaName,
    overflow: target.resultsBucket ? s3OverflowStore(target.resultsBucket) : undefined,
    payloads: target.resultsBucket ? s3PayloadStore(target.resultsBucket) : undefined,
    async rows<Row>(query: SQL, name?: string) {
      if (name && (target.kind === 'postgres' || runPrepared)) {
        const compiled = dialect.sqlToQuery(query);
        sameTextUnder(name, compiled.sql);
        if (runPrepared) return runPrepared<Row>(name, compiled);
        const prepared = db._.session.prepareQuery(compiled, undefined, name, false);
        return ((await prepared.execute()) as { rows: Row[] }).rows;
      }
      const result = (await db.execute(query)) as unknown as { rows: Row[] };
      return result.rows;
    },
    transaction: (work) => db.transaction((tx) => work(transactionOf(tx as unknown as Executor))),
    close,
  };
}

/** Applies every pending migration; the local cloud runs it on start, the stack on deploy. */
export async function migrateDatabase(database: Database): Promise<void> {
  const config = { migrationsFolder, migrationsSchema: database.schema === 'public' ? 'drizzle' : database.schema };
  switch (database.target) {
    case 'data-api': {
      const { migrate } = await import('drizzle-orm/aws-data-api/pg/migrator');
      return migrate(database.db as never, config);
    }
    case 'postgres': {
      const { migrate } = await import('drizzle-orm/node-postgres/migrator');
      return migrate(database.db as never, config);
    }
    case 'pglite': {
      const { migrate } = await import('drizzle-orm/pglite/migrator');
      return migrate(database.db as never, config);
    }
  }
}
