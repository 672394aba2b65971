import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** The published contract in `events/schema/`, read as another service's validator reads it. */
export async function publishedValidators() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const envelope = ajv.compile(JSON.parse(await readFile('events/schema/envelope.v1.json', 'utf8')));
  const payload = async (task: string) => ajv.compile(JSON.parse(await readFile(join('events/schema/payload', `${task}.json`), 'utf8')));
  return { envelope, payload };
}
