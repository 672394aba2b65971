/**
 * The V8 flags `npm start` runs the local cloud with (package.json's start script; the
 * tests and benchmarks start it with the same list). Neither can be set once Node runs.
 *
 * - `--liftoff-only`: PGlite's WebAssembly stays on V8's baseline compiler. With the
 *   optimizing tier, each new kind of statement (the migrations' DDL above all) has large
 *   PostgreSQL functions recompiled in the background, and those compilations held up to
 *   500 MiB at once; the baseline code runs the result store's statements as fast as the
 *   consumers need them (the memory benchmark's tasks/s is the same either way).
 * - `--max-semi-space-size=16`: the young generation, which V8 grows to 64 MiB a half on a
 *   large machine and never gives back in an idle process, stays at most 16 MiB a half.
 */
export const localCloudNodeFlags = ['--liftoff-only', '--max-semi-space-size=16'] as const;
