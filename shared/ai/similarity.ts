import { sql } from 'drizzle-orm';
import type { Database } from '../results/database.ts';

export type SimilarChunk = { source: string; chunk: number; content: string; model: string; distance: number };

export type SimilarityQuery = {
  userId: number;
  /** The query's embedding, from the same model as the rows it is compared with. */
  vector: readonly number[];
  /** Only rows embedded by this model; vectors of different models are not comparable. */
  model: string;
  limit?: number;
};

const pgvectorByDatabase = new WeakMap<Database, Promise<boolean>>();

/** Whether migration 0006 made `embeddings.vector` a pgvector column on this server. */
export function hasPgvector(database: Database): Promise<boolean> {
  let known = pgvectorByDatabase.get(database);
  if (!known) {
    known = database
      .rows<{ type: string }>(sql`
        select format_type(atttypid, atttypmod) as type from pg_attribute
        where attrelid = to_regclass('embeddings') and attname = 'vector'`)
      .then(([column]) => column?.type === 'vector');
    pgvectorByDatabase.set(database, known);
  }
  return known;
}

/**
 * A user's stored chunks nearest to `vector` by cosine distance (0 = same direction, 2 =
 * opposite), nearest first. pgvector's `<=>` does the work where the server has it; elsewhere
 * the same distance is computed over `double precision[]`, exactly but without an index.
 */
export async function nearestEmbeddings(database: Database, query: SimilarityQuery): Promise<SimilarChunk[]> {
  const { userId, vector, model, limit = 10 } = query;
  if (vector.length === 0 || !vector.every(Number.isFinite)) throw new Error('the query vector must be a non-empty list of finite numbers');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error('limit must be an integer from 1 to 1000');
  const literal = `[${vector.join(',')}]`;
  if (await hasPgvector(database)) {
    return database.rows<SimilarChunk>(sql`
      select source, chunk, content, model, (vector <=> ${literal}::vector)::float8 as distance
      from embeddings
      where user_id = ${userId}::int and model = ${model} and vector_dims(vector) = ${vector.length}::int
      order by vector <=> ${literal}::vector, source, chunk
      limit ${limit}::int`);
  }
  return database.rows<SimilarChunk>(sql`
    select e.source, e.chunk, e.content, e.model, 1 - d.dot / nullif(sqrt(d.self) * sqrt(d.other), 0) as distance
    from embeddings e
    cross join lateral (
      select sum(x * y) as dot, sum(x * x) as self, sum(y * y) as other
      from unnest(e.vector, ${`{${vector.join(',')}}`}::float8[]) as u(x, y)
    ) d
    where e.user_id = ${userId}::int and e.model = ${model} and array_length(e.vector, 1) = ${vector.length}::int
    order by distance, e.source, e.chunk
    limit ${limit}::int`);
}
