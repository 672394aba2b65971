import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseError, refusals, ServiceError } from './errors.ts';
import { assertSupported, builtinTypes, columnMetadata, formatRecords, toField, type ColumnType, type ResultOptions } from './fields.ts';
import { assertWithinLimits, limits } from './limits.ts';
import { bindStatement, type SqlParameter } from './statement.ts';

export interface ClusterOptions {
  /** How long a call runs before the Data API answers `StatementTimeoutException`. @default 45_000 */
  readonly statementTimeoutMs?: number;
  /** How long a transaction may go unused before the Data API ends it. @default 180_000 */
  readonly transactionIdleMs?: number;
}

export interface ExecuteInput {
  sql: string;
  parameters?: SqlParameter[];
  transactionId?: string;
  includeResultMetadata?: boolean;
  continueAfterTimeout?: boolean;
  formatRecordsAs?: string;
  resultSetOptions?: ResultOptions;
  schema?: string;
}

interface Transaction {
  client: pg.PoolClient;
  busy: boolean;
  timer?: NodeJS.Timeout;
}

// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html (the causes appended to "Transaction … isn't found")
const expired = 'Transaction may be expired.';
const ended = 'One previous call resulted in a termination of your transaction.';
const aborted = 'Transaction has been aborted due to an error from a previous call.';

/** The database side of the Data API: statements, transactions, timeouts and result conversion. */
export function createCluster(pool: pg.Pool, admin: pg.Client, options: ClusterOptions = {}) {
  const statementTimeoutMs = options.statementTimeoutMs ?? limits.statementTimeoutMs;
  const transactionIdleMs = options.transactionIdleMs ?? limits.transactionIdleMs;
  const types = new Map<number, ColumnType>(Object.entries(builtinTypes).map(([oid, type]) => [Number(oid), type]));
  const transactions = new Map<string, Transaction>();
  const endedTransactions = new Map<string, string>();

  const transaction = (id: string) => {
    const tx = transactions.get(id);
    if (!tx) throw refusals.transactionNotFound(id, endedTransactions.get(id) ?? expired);
    if (tx.busy) throw refusals.transactionBusy();
    return tx;
  };
  const finish = async (id: string, tx: Transaction, command: 'commit' | 'rollback', cause: string) => {
    transactions.delete(id);
    endedTransactions.set(id, cause);
    clearTimeout(tx.timer);
    try {
      await tx.client.query(command);
    } finally {
      tx.client.release();
    }
  };
  const touch = (id: string, tx: Transaction) => {
    clearTimeout(tx.timer);
    tx.timer = setTimeout(() => {
      if (!tx.busy) void finish(id, tx, 'rollback', expired).catch(() => undefined);
    }, transactionIdleMs).unref();
  };

  const lookUpTypes = async (client: pg.PoolClient, oids: number[]) => {
    const missing = [...new Set(oids.filter((oid) => !types.has(oid)))];
    if (missing.length > 0) {
      const { rows } = await client.query<{ oid: number; name: string; kind: string; element: string | null }>(
        `select t.oid::int as oid, t.typname as name, t.typtype as kind, e.typname as element
           from pg_type t left join pg_type e on e.oid = t.typelem and t.typcategory = 'A' where t.oid = any($1::int[])`,
        [missing],
      );
      for (const row of rows) types.set(row.oid, { name: row.name, isEnum: row.kind === 'e', ...(row.element ? { element: row.element } : {}) });
    }
    return oids.map((oid) => types.get(oid) ?? { name: `oid ${oid}`, isEnum: false });
  };

  const execute = async (input: ExecuteInput) => {
    if (input.schema !== undefined) throw refusals.schemaParameter();
    const tx = input.transactionId ? transaction(input.transactionId) : undefined;
    const bound = bindStatement(input.sql, input.parameters);
    const client = tx?.client ?? (await pool.connect());
    if (tx) tx.busy = true;
    // The extended protocol takes one statement, as the service does; the row mode keeps PostgreSQL's text.
    const config: pg.QueryArrayConfig & { queryMode: 'extended' } = { text: bound.text, values: bound.values, rowMode: 'array', queryMode: 'extended' };
    const running = client.query(config);
    const settled = running.then(
      () => undefined,
      (error: unknown) => error,
    );
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(refusals.statementTimeout());
        }, statementTimeoutMs);
      });
      const result = await Promise.race([running, timeout]).catch((error: unknown) => {
        if ((error as { code?: string }).code === '42601' && /multiple commands/.test((error as Error).message)) throw refusals.multistatement();
        throw databaseError(error);
      });
      const columns = await lookUpTypes(client, result.fields.map((f) => f.dataTypeID));
      assertSupported(columns);
      const records = (result.rows as (string | null)[][]).map((row) => row.map((value, index) => toField(value, columns[index]!, input.resultSetOptions)));
      const updated = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command) ? (result.rowCount ?? 0) : 0;
      if (input.formatRecordsAs === 'JSON') {
        const formattedRecords = formatRecords(result.fields, records);
        assertWithinLimits(records, formattedRecords);
        return { formattedRecords, numberOfRecordsUpdated: updated };
      }
      assertWithinLimits(records);
      return { records, numberOfRecordsUpdated: updated, ...(input.includeResultMetadata ? { columnMetadata: columnMetadata(result.fields, columns) } : {}) };
    } catch (error) {
      if (timedOut && !input.continueAfterTimeout) await admin.query('select pg_cancel_backend($1)', [(client as unknown as { processID: number }).processID]);
      // An error ends the transaction; a statement left running after a timeout keeps it.
      if (tx && input.transactionId && !(timedOut && input.continueAfterTimeout)) {
        transactions.delete(input.transactionId);
        endedTransactions.set(input.transactionId, aborted);
        void settled.then(() => finish(input.transactionId!, tx, 'rollback', aborted)).catch(() => undefined);
      }
      throw error instanceof ServiceError ? error : databaseError(error);
    } finally {
      clearTimeout(timer);
      if (tx) {
        void settled.then(() => (tx.busy = false));
        if (transactions.has(input.transactionId!)) touch(input.transactionId!, tx);
      } else void settled.then((error) => client.release(error instanceof Error && !(error instanceof pg.DatabaseError) ? error : undefined));
    }
  };

  return {
    execute,
    async begin() {
      const client = await pool.connect();
      await client.query('begin');
      const transactionId = randomUUID();
      const tx: Transaction = { client, busy: false };
      transactions.set(transactionId, tx);
      touch(transactionId, tx);
      return { transactionId };
    },
    async commit(id: string) {
      await finish(id, transaction(id), 'commit', ended).catch((error: unknown) => Promise.reject(databaseError(error)));
      return { transactionStatus: 'Transaction Committed' };
    },
    async rollback(id: string) {
      await finish(id, transaction(id), 'rollback', ended).catch((error: unknown) => Promise.reject(databaseError(error)));
      return { transactionStatus: 'Rollback Complete' };
    },
    close() {
      for (const tx of transactions.values()) {
        clearTimeout(tx.timer);
        tx.client.release();
      }
      transactions.clear();
    },
  };
}
