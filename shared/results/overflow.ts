import type { ResultObjects } from './overflow-s3.ts';

/**
 * What a task_results row holds inline, in UTF-8 bytes. A task's parts are read as rows of
 * their own (findTask), each far inside the Data API's 64 KB per row, and a chord's member
 * results in pages under its 1 MiB per response; results of up to 16 KiB (ids, counts,
 * short texts: nearly all of them) never leave the row, so the common task costs no S3 call.
 */
export const inlineBytes = { result: 16 * 1024, error: 4 * 1024, traceback: 16 * 1024 } as const;

/** Where values too large for a row are kept: a bucket and the prefix of its keys. */
export interface ResultsBucket {
  readonly bucket: string;
  /** @default 'task-results/' */
  readonly prefix?: string;
  readonly region?: string;
  readonly endpoint?: string;
  /** Whether the environment has AWS credentials of its own (`Config.ownCredentials`); without them an `endpoint` gets an emulator's fixed ones. @default false */
  readonly ownCredentials?: boolean;
}

/** The full values of a finished attempt that did not fit in its row. */
export interface OverflowValues {
  readonly result?: unknown;
  readonly error?: string;
  readonly traceback?: string;
}

export interface OverflowStore {
  /** Keeps an attempt's values; the key is the row's `overflow_key`. */
  put(taskId: string, attempt: number | undefined, values: OverflowValues): Promise<string>;
  get(key: string): Promise<OverflowValues>;
  /** Deletes the objects of rows that are gone (a purge); a key already gone is no error. */
  delete(keys: readonly string[]): Promise<void>;
}

/** Raised when a row refers to the results bucket and none is configured to read it from. */
export class OverflowUnavailableError extends Error {
  override name = 'OverflowUnavailableError';
}

/** The results bucket through S3; the client is loaded and built on first use, so tasks with small results never load it. */
export function s3OverflowStore(target: ResultsBucket): OverflowStore {
  const prefix = target.prefix ?? 'task-results/';
  let bucket: Promise<ResultObjects> | undefined;
  const connect = () => (bucket ??= import('./overflow-s3.ts').then(({ resultObjects }) => resultObjects(target)));
  return {
    async put(taskId, attempt, values) {
      // One object per attempt: a late write from an attempt that lost its lease cannot replace the winner's.
      const key = `${prefix}${encodeURIComponent(taskId)}/${attempt ?? 'unclaimed'}.json`;
      await (await connect()).put(key, JSON.stringify(values));
      return key;
    },
    async get(key) {
      return JSON.parse(await (await connect()).get(key)) as OverflowValues;
    },
    async delete(keys) {
      if (keys.length > 0) await (await connect()).delete(keys);
    },
  };
}

/** A row's values with its overflow read back: what the row clipped, the object holds in full. */
export async function withOverflow<Row extends { result: unknown; error: string | null; traceback: string | null }>(
  store: OverflowStore | undefined,
  key: string | null,
  row: Row,
): Promise<Row> {
  if (!key) return row;
  if (!store) throw new OverflowUnavailableError(`the full result of this task is kept in the results bucket (${key}); set RESULTS_BUCKET to read it`);
  const values = await store.get(key);
  return {
    ...row,
    ...('result' in values ? { result: values.result } : {}),
    ...(values.error !== undefined ? { error: values.error } : {}),
    ...(values.traceback !== undefined ? { traceback: values.traceback } : {}),
  };
}

/** A stored result (its jsonb text, or null), read from the results bucket where it overflowed. */
export async function storedResult(store: OverflowStore | undefined, key: string | null, text: string | null): Promise<unknown> {
  const inline = text === null ? null : (JSON.parse(text) as unknown);
  return (await withOverflow(store, key, { result: inline, error: null, traceback: null })).result;
}

/** The start of a text, cut to `bytes` of UTF-8 at a character boundary, marked when cut. */
export function clipBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let end = Math.min(text.length, bytes);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > bytes - 3) end--;
  // Not inside a surrogate pair.
  if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1]!)) end--;
  return `${text.slice(0, end)}…`;
}
