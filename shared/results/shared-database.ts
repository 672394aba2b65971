import { openDatabase, type Database, type DatabaseTarget } from './database.ts';

const openDatabases = new Map<string, Promise<Database>>();

/**
 * One result-store handle per target for the whole process: a Lambda sandbox reuses it
 * across invocations, and the local cloud's functions share it (PGlite allows a single opener).
 */
export function sharedDatabase(target: DatabaseTarget): Promise<Database> {
  const key = JSON.stringify(target);
  let database = openDatabases.get(key);
  if (!database) {
    database = openDatabase(target);
    openDatabases.set(key, database);
    database.catch(() => openDatabases.delete(key));
  }
  return database;
}

/** Closes the process's shared handles (the local cloud's shutdown). */
export async function closeSharedDatabases(): Promise<void> {
  const handles = [...openDatabases.values()];
  openDatabases.clear();
  await Promise.all(handles.map(async (handle) => (await handle).close()));
}
