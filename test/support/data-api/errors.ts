import type { DatabaseError } from 'pg';

/** An answer the Data API gives instead of a result: the SDK raises it as the exception named `type`. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string | undefined, status = 400) {
    super(message ?? '');
    this.type = type;
    this.status = status;
  }
}

/** The refusals the double gives, each as the service words it; the sources are on each line. */
export const refusals = {
  // https://github.com/boto/boto3/issues/2272 (the service's answer to an `arrayValue` parameter)
  arrayParameter: () => new ServiceError('BadRequestException', 'Array parameters are not supported.'),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html (Multistatement support)
  multistatement: () => new ServiceError('ValidationException', "Multistatements aren't supported."),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html (Schema parameter behavior)
  schemaParameter: () => new ServiceError('ValidationException', "The schema parameter isn't supported"),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html (Transaction is still running a query)
  transactionBusy: () => new ServiceError('DatabaseErrorException', 'Transaction is still running a query'),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html (the cause is appended to the message)
  transactionNotFound: (id: string, cause?: string) => new ServiceError('TransactionNotFoundException', `Transaction ${id} is not found${cause ? `: ${cause}` : ''}`, 404),
  // https://github.com/aws/aws-sdk-js/issues/3385 (StatementTimeoutException: `Request timed out`)
  statementTimeout: () => new ServiceError('StatementTimeoutException', 'Request timed out'),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html (ExecuteStatement behavior)
  unsupportedType: (name: string) => new ServiceError('UnsupportedResultException', `The result contains the unsupported data type ${name}.`),
  // https://github.com/tmokmss/aurora-data-api-proxy/blob/main/COMPATIBILITY.md (observed on Serverless v2)
  multidimensionalArray: () => new ServiceError('UnsupportedResultException', 'The result contains a multidimensional array.'),
  // https://github.com/tmokmss/aurora-data-api-proxy/blob/main/COMPATIBILITY.md (`The result exceeds the size limit 1 MB`, observed on Serverless v2)
  responseTooLarge: () => new ServiceError('UnsupportedResultException', 'The result exceeds the size limit 1 MB'),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html (Packet for query is too large: 64 KB per row)
  rowTooLarge: () => new ServiceError('UnsupportedResultException', 'Packet for query is too large'),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html (Troubleshooting: 10 MB, BadRequestException)
  jsonTooLarge: () => new ServiceError('BadRequestException', 'The JSON response exceeds the size limit 10 MB'),
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html (duplicate key names aren't allowed)
  duplicateLabel: (label: string) => new ServiceError('BadRequestException', `The result set has more than one column labelled ${label}`),
  // https://github.com/drizzle-team/drizzle-orm/issues/5308 (an `infinity` timestamp: `InternalFailure: UnknownError`, no message)
  infiniteTimestamp: () => new ServiceError('InternalFailure', undefined, 500),
  // https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BatchExecuteStatement.html (4 MiB with headers; the answer's type is not documented)
  requestTooLarge: () => new ServiceError('RequestEntityTooLargeException', 'Request size exceeds the 4 MiB limit of the Data API', 413),
  // https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_SqlParameter.html (typeHint formats; the wording is the double's)
  hintFormat: (name: string, hint: string, format: string) => new ServiceError('BadRequestException', `Parameter ${name} with typeHint ${hint} must have the format ${format}`),
  // A named placeholder with no parameter: refused rather than bound as NULL (the wording is the double's).
  missingParameter: (name: string) => new ServiceError('BadRequestException', `No value specified for parameter ${name}`),
};

/**
 * A PostgreSQL error as the Data API passes it on: `DatabaseErrorException` with PostgreSQL's
 * message, hint and position and the SQLSTATE after a semicolon.
 * https://github.com/drizzle-team/drizzle-orm/issues/2583 (the exception and its `; SQLState:` tail)
 * https://github.com/koxudaxi/local-data-api/issues/205 (`…\n  Position: 464; SQLState: 42809`)
 */
export function databaseError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const pgError = error as Partial<DatabaseError> & { message?: string };
  if (!pgError.code) return new ServiceError('DatabaseErrorException', pgError.message ?? String(error));
  const hint = pgError.hint ? `\n  Hint: ${pgError.hint}` : '';
  const position = pgError.position ? `\n  Position: ${pgError.position}` : '';
  return new ServiceError('DatabaseErrorException', `ERROR: ${pgError.message}${hint}${position}; SQLState: ${pgError.code}`);
}
