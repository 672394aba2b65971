/** An IAM policy statement, its intrinsic functions already resolved. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** One authorisation an AWS call needs: an action on a resource, with the request's condition keys. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

const list = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

/** IAM's wildcards: `*` any run of characters, `?` one. */
function wildcard(pattern: string, flags = ''): RegExp {
  return new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, `s${flags}`);
}

/** Action names are case-insensitive, resource ARNs case-sensitive. */
const actionMatches = (patterns: readonly string[], action: string) => patterns.some((pattern) => wildcard(pattern, 'i').test(action));
const resourceMatches = (patterns: readonly string[], resource: string) => patterns.some((pattern) => wildcard(pattern).test(resource));

/**
 * The condition operators our policies use, and their negations; a key absent from the
 * request fails a positive operator and satisfies a negated one.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 */
const operators: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (expected, actual) => expected === actual,
  StringEqualsIgnoreCase: (expected, actual) => expected.toLowerCase() === actual.toLowerCase(),
  StringLike: (expected, actual) => wildcard(expected).test(actual),
  ArnEquals: (expected, actual) => expected === actual,
  ArnLike: (expected, actual) => wildcard(expected).test(actual),
  Bool: (expected, actual) => expected.toLowerCase() === actual.toLowerCase(),
};

function conditionHolds(condition: Statement['Condition'], context: Readonly<Record<string, string>>): boolean {
  return Object.entries(condition ?? {}).every(([rawOperator, keys]) => {
    const ifExists = rawOperator.endsWith('IfExists');
    const operatorName = rawOperator.replace(/IfExists$/, '');
    const negated = /^(String|Arn)Not/.test(operatorName);
    const test = operators[operatorName.replace(/^(String|Arn)Not/, '$1')];
    if (!test) throw new Error(`the rehearsal's IAM evaluator does not know the condition operator ${rawOperator}`);
    return Object.entries(keys).every(([key, expected]) => {
      const actual = Object.entries(context).find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1];
      if (actual === undefined) return ifExists || negated;
      const matched = list(expected as string | string[]).some((value) => test(String(value), actual));
      return negated ? !matched : matched;
    });
  });
}

function statementApplies(statement: Statement, request: AuthorizationRequest): boolean {
  const action = statement.Action !== undefined ? actionMatches(list(statement.Action), request.action) : !actionMatches(list(statement.NotAction), request.action);
  if (!action) return false;
  const resource = statement.Resource !== undefined ? resourceMatches(list(statement.Resource), request.resource) : statement.NotResource !== undefined ? !resourceMatches(list(statement.NotResource), request.resource) : true;
  return resource && conditionHolds(statement.Condition, request.context ?? {});
}

/**
 * IAM's evaluation within one account for identity-based policies: an explicit Deny
 * wins, then any Allow, else the request is implicitly denied.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
export function evaluate(statements: readonly Statement[], request: AuthorizationRequest): Decision {
  const applying = statements.filter((statement) => statementApplies(statement, request));
  if (applying.some((statement) => statement.Effect === 'Deny')) return 'explicit-deny';
  return applying.some((statement) => statement.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}

/** Whether a trust policy lets a service principal assume the role, with the condition keys the service sets. */
export function trusts(trustPolicy: readonly Statement[], service: string, context: Readonly<Record<string, string>>): boolean {
  const principals = (statement: Statement) => list((statement.Principal as { Service?: string | string[] } | undefined)?.Service);
  const applying = trustPolicy.filter((statement) => principals(statement).includes(service) && statementApplies(statement, { action: 'sts:AssumeRole', resource: '*', context }));
  return applying.some((statement) => statement.Effect === 'Allow') && !applying.some((statement) => statement.Effect === 'Deny');
}
