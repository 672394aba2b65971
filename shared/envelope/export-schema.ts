/** Writes the message contract's JSON Schemas to `events/schema/` (`npm run schemas`). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageJsonSchemas } from './json-schemas.ts';

const root = fileURLToPath(new URL('../../events/schema/', import.meta.url));
for (const [file, schema] of Object.entries(messageJsonSchemas())) {
  const path = join(root, file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(schema, null, 2)}\n`);
}
console.warn(`wrote ${Object.keys(messageJsonSchemas()).length} schemas to events/schema/`);
