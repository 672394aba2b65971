import { Worker } from 'node:worker_threads';

/** How the worker opens its PGlite. */
export interface PgliteStart {
  readonly dataDir?: string;
  readonly image?: Blob;
}

export type PgliteRequest =
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly params: readonly unknown[]; readonly rowMode?: 'array' | 'object'; readonly textTypes: readonly number[] }
  | { readonly id: number; readonly op: 'exec'; readonly sql: string }
  | { readonly id: number; readonly op: 'close' };

export interface SerialisedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly fields: Record<string, unknown>;
}

interface Results {
  readonly rows: unknown[];
  readonly fields: { name: string; dataTypeID: number }[];
  readonly affectedRows?: number;
}

/** A request before its id is given. */
type WithoutId<Request> = Request extends unknown ? Omit<Request, 'id'> : never;
type Unsent = WithoutId<PgliteRequest>;

type Answer = { id: number; result: unknown } | { id: number; error: SerialisedError };

/** An error as the worker's PGlite raised it, with its SQLSTATE and the rest of its fields. */
function revived(error: SerialisedError): Error {
  const revivedError = Object.assign(new Error(error.message), error.fields);
  revivedError.name = error.name;
  if (error.stack) revivedError.stack = error.stack;
  return revivedError;
}

function queryRequest(sql: string, params: readonly unknown[], options: QueryOptions): Unsent {
  return { op: 'query', sql, params, ...(options.rowMode ? { rowMode: options.rowMode } : {}), textTypes: Object.keys(options.parsers ?? {}).map(Number) };
}

interface QueryOptions {
  readonly rowMode?: 'array' | 'object';
  readonly parsers?: Record<number, unknown>;
}

/** A parameter as an SQL literal (standard strings: a quote doubled), or undefined for a kind that must be bound instead. */
function literal(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/** What drizzle's PGlite driver calls, inside a transaction as outside one. */
interface Queries {
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<Results>;
  exec(sql: string): Promise<Results[]>;
}

/**
 * PGlite in a worker thread (pglite-worker.ts), with the part of PGlite's interface drizzle
 * uses: queries, multi-statement exec, transactions and close. PGlite has one session, so
 * while a transaction is open no other query is sent; queries are otherwise sent at once
 * and answered in order, as PGlite itself queues them.
 */
export class PgliteThread implements Queries {
  readonly #worker: Worker;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #nextId = 0;
  /** Statements prepared in the session, by name. */
  readonly #prepared = new Map<string, Promise<void>>();
  /** Settles when the open transaction, and every one queued behind it, has ended. */
  #transactions: Promise<void> = Promise.resolve();

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (answer: Answer) => {
      const pending = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if ('error' in answer) pending?.reject(revived(answer.error));
      else pending?.resolve(answer.result);
    });
    worker.on('error', (error) => this.#failAll(error));
    worker.on('exit', (code) => this.#failAll(new Error(`the PGlite thread ended (exit code ${code})`)));
  }

  static async start(start: PgliteStart): Promise<PgliteThread> {
    const worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), { workerData: start });
    const [first] = (await Promise.race([
      new Promise((resolve) => worker.once('message', (message) => resolve([message]))),
      new Promise((_, reject) => worker.once('error', reject)),
    ])) as [{ ready: boolean; error?: SerialisedError }];
    if (!first.ready) {
      await worker.terminate();
      throw revived(first.error!);
    }
    return new PgliteThread(worker);
  }

  async query(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<Results> {
    await this.#outsideTransactions();
    return this.#send<Results>(queryRequest(sql, params, options));
  }

  /**
   * A statement whose text never changes and that runs again and again: prepared once in
   * the session (SQL PREPARE), so PGlite parses and plans it once, then executed with its
   * parameters, as node-postgres does with a named statement on a server.
   */
  async prepared(name: string, sql: string, params: readonly unknown[], options: QueryOptions = {}): Promise<Results> {
    const literals = params.map(literal);
    if (literals.includes(undefined)) return this.query(sql, params, options);
    let ready = this.#prepared.get(name);
    if (!ready) {
      ready = this.query(`prepare ${name} as ${sql}`).then(() => undefined);
      this.#prepared.set(name, ready);
      ready.catch(() => this.#prepared.delete(name));
    }
    await ready;
    // EXECUTE takes no bound parameters (it is a utility statement), so they go as literals, typed by the PREPARE.
    return this.query(literals.length > 0 ? `execute ${name}(${literals.join(', ')})` : `execute ${name}`, [], options);
  }

  async exec(sql: string): Promise<Results[]> {
    await this.#outsideTransactions();
    return this.#send<Results[]>({ op: 'exec', sql });
  }

  /** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: Queries) => Promise<T>): Promise<T> {
    // Queued synchronously, so transactions begun in the same tick still run one after another.
    const before = this.#transactions;
    const ended = Promise.withResolvers<void>();
    this.#transactions = before.then(() => ended.promise);
    await before;
    const tx: Queries = {
      query: (sql, params = [], options = {}) => this.#send<Results>(queryRequest(sql, params, options)),
      exec: (sql) => this.#send<Results[]>({ op: 'exec', sql }),
    };
    try {
      await tx.exec('begin');
      const result = await work(tx);
      await tx.exec('commit');
      return result;
    } catch (error) {
      await tx.exec('rollback').catch(() => undefined);
      throw error;
    } finally {
      ended.resolve();
    }
  }

  async close(): Promise<void> {
    await this.#outsideTransactions();
    await this.#send({ op: 'close' });
    await this.#worker.terminate();
  }

  /** Queries wait for the transactions open or queued when they are sent; microtasks keep their order. */
  #outsideTransactions(): Promise<void> {
    return this.#transactions;
  }

  #send<T>(request: Unsent): Promise<T> {
    const id = this.#nextId++;
    const pending = Promise.withResolvers<unknown>();
    this.#pending.set(id, pending);
    this.#worker.postMessage({ ...request, id });
    return pending.promise as Promise<T>;
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
