/**
 * `node shared/results/pglite-initdb.ts <dataDir>`: creates PGlite's data directory with
 * the local cloud's server settings, then exits (createDataDir runs it in a process of its own).
 */
import { PGlite } from '@electric-sql/pglite';
import { initdbParams, pgliteStartParams } from './pglite.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: node shared/results/pglite-initdb.ts <dataDir>');
const client = await PGlite.create(dataDir, { startParams: pgliteStartParams(PGlite.defaultStartParams), initDbStartParams: [...initdbParams] });
await client.close();
