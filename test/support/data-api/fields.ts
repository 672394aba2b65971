import type { FieldDef } from 'pg';
import { refusals } from './errors.ts';

/** A result value as the Data API returns it (the `Field` union). */
export type Field =
  | { isNull: true }
  | { stringValue: string }
  | { longValue: number }
  | { doubleValue: number }
  | { booleanValue: boolean }
  | { blobValue: string }
  | { arrayValue: { stringValues: (string | null)[] } | { longValues: (number | null)[] } | { doubleValues: (number | null)[] } | { booleanValues: (boolean | null)[] } };

/** A column's PostgreSQL type: its name, whether it is an enum, and for an array its element's name. */
export interface ColumnType {
  name: string;
  isEnum: boolean;
  element?: string;
}

export interface ResultOptions {
  decimalReturnType?: string;
  longReturnType?: string;
}

// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html (the scalar and array types
// the Data API returns), with oid, timestamptz, jsonb[], timestamptz[] and bytea[] observed working on Serverless v2
// (https://github.com/tmokmss/aurora-data-api-proxy/blob/main/COMPATIBILITY.md). Any other type is refused.
const scalars = new Set(['bool', 'bytea', 'date', 'cidr', 'numeric', 'float8', 'inet', 'int4', 'int2', 'int8', 'jsonb', 'json', 'float4', 'text', 'bpchar', 'varchar', 'name', 'time', 'timestamp', 'timestamptz', 'uuid', 'vector', 'oid']);
const arrays = new Set(['bool', 'bit', 'date', 'numeric', 'float8', 'int4', 'int2', 'int8', 'json', 'float4', 'text', 'bpchar', 'varchar', 'name', 'time', 'timestamp', 'uuid', 'timestamptz', 'jsonb', 'bytea', 'oid']);
// `void` (pg_sleep, pg_advisory_xact_lock) is in neither list and no source says how the service answers it: it passes as NULL.
const noValue = 'void';
const integers = new Set(['int2', 'int4', 'int8', 'oid']);
const floats = new Set(['float4', 'float8']);

// java.sql.Types codes, which `columnMetadata.type` carries.
const jdbcTypes: Record<string, number> = { bool: -7, int2: 5, int4: 4, int8: -5, oid: -5, float4: 7, float8: 8, numeric: 2, bpchar: 1, date: 91, time: 92, timestamp: 93, timestamptz: 93, bytea: -2 };

/** Types whose OIDs are fixed in every PostgreSQL; others (enums, vector) are looked up. */
export const builtinTypes: Record<number, ColumnType> = Object.fromEntries(
  Object.entries({
    16: 'bool', 17: 'bytea', 18: 'char', 19: 'name', 20: 'int8', 21: 'int2', 23: 'int4', 25: 'text', 26: 'oid', 114: 'json', 142: 'xml', 650: 'cidr', 700: 'float4', 701: 'float8', 790: 'money', 869: 'inet', 1042: 'bpchar',
    1043: 'varchar', 1082: 'date', 1083: 'time', 1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1266: 'timetz', 1700: 'numeric', 2950: 'uuid', 3802: 'jsonb', 2278: 'void', 2249: 'record', 2205: 'regclass', 2206: 'regtype',
    1000: '_bool', 1001: '_bytea', 1003: '_name', 1005: '_int2', 1007: '_int4', 1009: '_text', 1014: '_bpchar', 1015: '_varchar', 1016: '_int8', 1021: '_float4', 1022: '_float8', 1028: '_oid', 1115: '_timestamp',
    1182: '_date', 1183: '_time', 1185: '_timestamptz', 1231: '_numeric', 2951: '_uuid', 199: '_json', 3807: '_jsonb', 1561: '_bit', 1187: '_interval',
  }).map(([oid, name]) => [Number(oid), { name, isEnum: false, ...(name.startsWith('_') ? { element: name.slice(1) } : {}) }]),
);

/** Refuses a result holding a type the Data API cannot return, before any row is converted. */
export function assertSupported(types: ColumnType[]): void {
  for (const type of types) {
    const supported = type.element ? arrays.has(type.element) : type.isEnum || type.name === noValue || scalars.has(type.name);
    if (!supported) throw refusals.unsupportedType(type.name === 'char' ? '"CHAR"' : type.name.toUpperCase());
  }
}

// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html ("always returns TIMESTAMPTZ in UTC"):
// the session runs in UTC, and the offset PostgreSQL prints is dropped, as
// https://github.com/tmokmss/aurora-data-api-proxy/blob/main/COMPATIBILITY.md observed ('… 12:34:56+09' comes back as '… 03:34:56').
function temporal(value: string, type: string): string {
  if (/infinity/.test(value)) throw refusals.infiniteTimestamp();
  return type === 'timestamptz' ? value.replace(/[+-]\d{2}(:\d{2})?$/, '') : value;
}

function scalar(value: string, type: string, options: ResultOptions): Field {
  if (type === 'bool') return { booleanValue: value === 't' };
  if (integers.has(type)) return options.longReturnType === 'STRING' && type === 'int8' ? { stringValue: value } : { longValue: Number(value) };
  if (floats.has(type)) return { doubleValue: Number(value) };
  // https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ResultSetOptions.html (DECIMAL as a string unless DOUBLE_OR_LONG)
  if (type === 'numeric' && options.decimalReturnType === 'DOUBLE_OR_LONG') return /^-?\d+$/.test(value) ? { longValue: Number(value) } : { doubleValue: Number(value) };
  if (type === 'bytea') return { blobValue: Buffer.from(value.slice(2), 'hex').toString('base64') };
  if (type === 'date' || type === 'timestamp' || type === 'timestamptz') return { stringValue: temporal(value, type) };
  return { stringValue: value };
}

/** The elements of a one-dimensional array literal (`{a,"b c",NULL}`), unquoted. */
function elements(literal: string): (string | null)[] {
  if (!literal.startsWith('{') || /^\{\s*\{/.test(literal)) throw refusals.multidimensionalArray();
  const items: (string | null)[] = [];
  let current = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 1; i < literal.length - 1; i++) {
    const char = literal[i]!;
    if (quoted && char === '\\') current += literal[++i];
    else if (char === '"') [quoted, wasQuoted] = [!quoted, true];
    else if (char === ',' && !quoted) {
      items.push(!wasQuoted && current === 'NULL' ? null : current);
      [current, wasQuoted] = ['', false];
    } else current += char;
  }
  if (literal.length > 2) items.push(!wasQuoted && current === 'NULL' ? null : current);
  return items;
}

// https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ArrayValue.html (booleanValues, longValues, doubleValues, stringValues)
function array(literal: string, element: string): Field {
  const items = elements(literal);
  if (element === 'bool') return { arrayValue: { booleanValues: items.map((v) => (v === null ? null : v === 't')) } };
  if (integers.has(element)) return { arrayValue: { longValues: items.map((v) => (v === null ? null : Number(v))) } };
  if (floats.has(element)) return { arrayValue: { doubleValues: items.map((v) => (v === null ? null : Number(v))) } };
  const temporalElement = element === 'date' || element === 'timestamp' || element === 'timestamptz';
  return { arrayValue: { stringValues: items.map((v) => (v === null || !temporalElement ? v : temporal(v, element))) } };
}

/** One value of a row, from PostgreSQL's text output to the Data API's field kind. */
export function toField(value: string | null, type: ColumnType, options: ResultOptions = {}): Field {
  if (value === null || type.name === noValue) return { isNull: true };
  if (type.element) return array(value, type.element);
  return scalar(value, type.isEnum ? 'text' : type.name, options);
}

/** `columnMetadata` as `includeResultMetadata` asks for it: names, labels and PostgreSQL's type names. */
export function columnMetadata(fields: FieldDef[], types: ColumnType[]) {
  return fields.map((field, index) => {
    const type = types[index]!;
    return {
      name: field.name,
      label: field.name,
      typeName: type.name,
      type: type.element ? 2003 : (jdbcTypes[type.name] ?? (['text', 'varchar', 'name'].includes(type.name) ? 12 : 1111)),
      isAutoIncrement: false,
      isSigned: integers.has(type.name) || floats.has(type.name) || type.name === 'numeric',
      isCurrency: false,
      isCaseSensitive: !integers.has(type.name) && !floats.has(type.name),
      nullable: 2,
      precision: 0,
      scale: 0,
      schemaName: '',
      tableName: '',
      arrayBaseColumnType: 0,
    };
  });
}

/**
 * `formatRecordsAs: 'JSON'`: one object per row keyed by column label, numbers and booleans
 * as JSON, BLOBs in base64, everything else as strings, and duplicate labels refused.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html
 */
export function formatRecords(fields: FieldDef[], records: Field[][]): string {
  const labels = fields.map((f) => f.name);
  const duplicate = labels.find((label, index) => labels.indexOf(label) !== index);
  if (duplicate !== undefined) throw refusals.duplicateLabel(duplicate);
  const plain = (field: Field): unknown => {
    if ('isNull' in field) return null;
    if ('arrayValue' in field) return Object.values(field.arrayValue)[0];
    return Object.values(field)[0];
  };
  return JSON.stringify(records.map((record) => Object.fromEntries(record.map((field, index) => [labels[index], plain(field)]))));
}
