import type { IncomingMessage } from 'node:http';
import { refusals } from './errors.ts';
import type { Field } from './fields.ts';

/** The Data API's fixed limits; each line names where it is documented. */
export const limits = {
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html (1 MiB per response)
  responseBytes: 1024 * 1024,
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html (64 KB per row)
  rowBytes: 64 * 1024,
  // https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BatchExecuteStatement.html (4 MiB, headers and JSON included)
  requestBytes: 4 * 1024 * 1024,
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html (the JSON result is limited to 10 MB)
  jsonBytes: 10 * 1000 * 1000,
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html (45 seconds per call)
  statementTimeoutMs: 45_000,
  // https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html (no call for three minutes ends it)
  transactionIdleMs: 3 * 60_000,
} as const;

/** A request's size as the 4 MiB limit counts it: request line, headers and body. */
export function requestSize(request: IncomingMessage, body: Buffer): number {
  let headers = `${request.method} ${request.url} HTTP/${request.httpVersion}\r\n`.length;
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers += Buffer.byteLength(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}\r\n`);
  return headers + body.length;
}

/**
 * Refuses a result over the row limit, or over the response limit for records (a JSON-formatted
 * result has its own limit). The service measures the binary data the database returns; the
 * double measures each record's JSON as it goes on the wire, which is close to it for text and
 * a little over it for numbers and field names.
 */
export function assertWithinLimits(records: Field[][], formatted?: string): void {
  let total = 2;
  for (const record of records) {
    const size = Buffer.byteLength(JSON.stringify(record));
    if (size > limits.rowBytes) throw refusals.rowTooLarge();
    total += size + 1;
  }
  if (formatted === undefined && total > limits.responseBytes) throw refusals.responseTooLarge();
  if (formatted !== undefined && Buffer.byteLength(formatted) > limits.jsonBytes) throw refusals.jsonTooLarge();
}
