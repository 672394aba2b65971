-- Embeddings become pgvector's `vector` where the server offers the extension (Aurora
-- PostgreSQL, PGlite); elsewhere they stay `double precision[]`, and similarity is computed
-- in SQL (shared/ai/similarity.ts). Inserts need no change: pgvector casts float8[] to vector
-- on assignment. The column has no fixed dimension, as the embedding model is configurable;
-- searches are per user, served by the primary key's user_id prefix.
DO $$
BEGIN
  IF to_regtype('vector') IS NULL AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS vector;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pgvector is available but this role cannot create it; embeddings stay double precision[]';
    END;
  END IF;
  IF to_regtype('vector') IS NOT NULL THEN
    ALTER TABLE embeddings ALTER COLUMN vector TYPE vector USING vector::vector;
  END IF;
END
$$;
