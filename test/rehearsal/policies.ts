import type { Template } from './assembly.ts';
import { resolve, type LocalValues } from './environment.ts';
import type { Statement } from './iam.ts';

/**
 * The AWS managed policies our roles attach, as AWS publishes them; a role attaching
 * another fails the rehearsal rather than being guessed at.
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
 */
const managedPolicies: Record<string, readonly Statement[]> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': [
    { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
  ],
};

export interface RolePolicies {
  readonly roleLogicalId: string;
  readonly roleArn: string;
  /** Every identity-based statement: inline, `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and AWS managed ones. */
  readonly statements: readonly Statement[];
  readonly trustPolicy: readonly Statement[];
}

const refersTo = (roles: unknown, roleId: string) => Array.isArray(roles) && roles.some((role) => (role as { Ref?: string }).Ref === roleId);
const statementsOf = (document: unknown, values: LocalValues) => ((resolve(document, values) as { Statement?: Statement[] } | undefined)?.Statement ?? []);

/** A role's policies in the template, their Refs and GetAtts resolved with the local values. */
export function rolePolicies(template: Template, roleLogicalId: string, values: LocalValues): RolePolicies {
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
  const properties = role.Properties ?? {};
  const inline = ((properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).flatMap((policy) => statementsOf(policy.PolicyDocument, values));
  const attached = Object.values(template.Resources)
    .filter((resource) => (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') && refersTo(resource.Properties?.Roles, roleLogicalId))
    .flatMap((resource) => statementsOf(resource.Properties?.PolicyDocument, values));
  const managed = ((resolve(properties.ManagedPolicyArns ?? [], values) as string[]) ?? []).flatMap((arn) => {
    const statements = managedPolicies[arn];
    if (!statements) throw new Error(`${roleLogicalId} attaches ${arn}, which the rehearsal does not know`);
    return statements;
  });
  return {
    roleLogicalId,
    roleArn: values.attribute(roleLogicalId, 'Arn'),
    statements: [...inline, ...attached, ...managed],
    trustPolicy: statementsOf(properties.AssumeRolePolicyDocument, values),
  };
}

/** The role a function runs with: its `Role` property, a GetAtt of a role in the template. */
export function roleOfFunction(properties: Record<string, unknown>): string {
  const role = properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const id = role?.['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`a function's role is not a role of this template: ${JSON.stringify(role)}`);
  return id;
}
