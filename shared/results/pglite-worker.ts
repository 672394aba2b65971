/**
 * PGlite on a thread of its own: the embedded store's queries run beside the consumers'
 * JavaScript instead of between it, as a PostgreSQL server's do. Spoken to by
 * pglite-thread.ts; never part of a Lambda bundle.
 */
import { PGlite, type QueryOptions } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { parentPort, workerData } from 'node:worker_threads';
import { pgliteStartParams } from './pglite.ts';
import type { PgliteRequest, PgliteStart, SerialisedError } from './pglite-thread.ts';

const port = parentPort!;
const start = workerData as PgliteStart;

function serialised(error: unknown): SerialisedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  // A DatabaseError's SQLSTATE, detail and position are own fields; the errors' callers read them (errors.ts).
  const fields = Object.fromEntries(Object.entries(error).filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value)));
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

const identity = (value: string) => value;

try {
  // pgvector is offered as Aurora offers it; migration 0006 turns it on.
  const db = await PGlite.create(start.dataDir, {
    extensions: { vector },
    startParams: pgliteStartParams(PGlite.defaultStartParams),
    ...(start.image ? { loadDataDir: start.image } : {}),
  });
  port.on('message', (request: PgliteRequest) => {
    const answer = async () => {
      switch (request.op) {
        case 'query': {
          // The caller's parsers (drizzle's) all keep a type's text as it is: named by type here, as functions cannot cross threads.
          const options: QueryOptions = { rowMode: request.rowMode, parsers: Object.fromEntries(request.textTypes.map((type) => [type, identity])) };
          const { rows, fields, affectedRows } = await db.query(request.sql, [...request.params], options);
          return { rows, fields, affectedRows };
        }
        case 'exec':
          return (await db.exec(request.sql)).map(({ rows, fields, affectedRows }) => ({ rows, fields, affectedRows }));
        case 'close':
          await db.close();
          return null;
      }
    };
    answer().then(
      (result) => port.postMessage({ id: request.id, result }),
      (error: unknown) => port.postMessage({ id: request.id, error: serialised(error) }),
    );
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: serialised(error) });
}
