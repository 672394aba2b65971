import { refusals } from './errors.ts';

/** A parameter as the SDK sends it (`SqlParameter`; `blobValue` arrives base64-encoded). */
export interface SqlParameter {
  name?: string;
  typeHint?: string;
  value?: Partial<{ isNull: boolean; stringValue: string; longValue: number; doubleValue: number; booleanValue: boolean; blobValue: string; arrayValue: unknown }>;
}

/** What node-postgres runs: `$n` placeholders and their values. */
export interface BoundStatement {
  text: string;
  values: unknown[];
}

// https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_SqlParameter.html (each typeHint names the type a stringValue is sent as, and its accepted format)
const hints: Record<string, { cast: string; format?: RegExp; shape?: string }> = {
  UUID: { cast: 'uuid' },
  // The reference says the value is sent "as an object of JSON type"; PostgreSQL's `json` casts to `jsonb` on assignment.
  JSON: { cast: 'json' },
  DECIMAL: { cast: 'numeric' },
  TIMESTAMP: { cast: 'timestamp', format: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/, shape: 'YYYY-MM-DD HH:MM:SS[.FFF]' },
  DATE: { cast: 'date', format: /^\d{4}-\d{2}-\d{2}$/, shape: 'YYYY-MM-DD' },
  TIME: { cast: 'time', format: /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/, shape: 'HH:MM:SS[.FFF]' },
};

/**
 * One value and the type PostgreSQL sees it as. An untyped `stringValue` is `text`: Serverless v2
 * users meet `operator does not exist: uuid = text` and `column "id" is of type uuid but
 * expression is of type text` (https://github.com/drizzle-team/drizzle-orm/issues/2583,
 * https://github.com/aws/aws-sdk-pandas/issues/2960). A NULL keeps no type, so PostgreSQL infers one.
 */
function bindValue(parameter: SqlParameter, name: string): { value: unknown; cast?: string } {
  const value = parameter.value ?? {};
  if (value.arrayValue !== undefined) throw refusals.arrayParameter();
  if (value.isNull) return { value: null };
  if (value.stringValue !== undefined) {
    const hint = parameter.typeHint ? hints[parameter.typeHint] : undefined;
    if (!hint) return { value: value.stringValue, cast: 'text' };
    if (hint.format && !hint.format.test(value.stringValue)) throw refusals.hintFormat(name, parameter.typeHint!, hint.shape!);
    return { value: value.stringValue, cast: hint.cast };
  }
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html (JDBC types: LONG for BIGINT, DOUBLE, BOOLEAN, BLOB)
  if (value.longValue !== undefined) return { value: String(value.longValue), cast: 'bigint' };
  if (value.doubleValue !== undefined) return { value: String(value.doubleValue), cast: 'double precision' };
  if (value.booleanValue !== undefined) return { value: value.booleanValue, cast: 'boolean' };
  if (value.blobValue !== undefined) return { value: Buffer.from(value.blobValue, 'base64'), cast: 'bytea' };
  return { value: null };
}

/**
 * The Data API's `:name` placeholders as `$n`, one per occurrence, each cast to its value's type.
 * The service's scanner respects single quotes, double quotes and comments but not dollar quotes,
 * and reads the `:2` of an array slice `a[1:2]` as a parameter
 * (https://github.com/tmokmss/aurora-data-api-proxy/blob/main/COMPATIBILITY.md, "Statements the proxy refuses").
 */
export function bindStatement(sql: string, parameters: SqlParameter[] = []): BoundStatement {
  const byName = new Map(parameters.map((p) => [p.name ?? '', p]));
  const values: unknown[] = [];
  let text = '';
  const skip = /'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|::/y;
  const placeholder = /:(\w+)/y;
  const plain = /[^'":\-/]+|[\s\S]/y;
  let i = 0;
  while (i < sql.length) {
    skip.lastIndex = i;
    const skipped = skip.exec(sql);
    if (skipped) {
      text += skipped[0];
      i = skip.lastIndex;
      continue;
    }
    placeholder.lastIndex = i;
    const found = placeholder.exec(sql);
    if (!found) {
      plain.lastIndex = i;
      text += plain.exec(sql)![0];
      i = plain.lastIndex;
      continue;
    }
    const name = found[1]!;
    const parameter = byName.get(name);
    if (!parameter) throw refusals.missingParameter(name);
    const bound = bindValue(parameter, name);
    values.push(bound.value);
    text += bound.cast ? `$${values.length}::${bound.cast}` : `$${values.length}`;
    i = placeholder.lastIndex;
  }
  return { text, values };
}
