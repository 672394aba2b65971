#!/usr/bin/env node
// The CLI is TypeScript that Node 24 runs by stripping types; this launcher starts it on the
// project's pinned Node whatever `node` is first on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 23 || (major === 23 && minor >= 6)) {
  await import(main);
} else {
  const pinned = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));
  const node = existsSync(pinned) ? pinned : process.execPath;
  const { status, signal } = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(status ?? (signal ? 1 : 0));
}
