import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { resourcesOfType } from '../assembly.ts';
import { account, region, resolve } from '../environment.ts';
import { scheduledInput } from '../events.ts';
import { credentialsOf } from '../functions.ts';
import { trusts } from '../iam.ts';
import { rolePolicies } from '../policies.ts';
import { testSecrets } from '../rehearsal.ts';
import { awaitResults, expectSucceeded } from '../seeds.ts';
import { failure, lastLogs, type Check } from './check.ts';

/** A Stripe event as Stripe delivers it to a webhook endpoint. */
function stripeEvent(id: string) {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: '2025-01-27.acacia',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'customer.subscription.updated',
    data: { object: { id: 'sub_rehearsal', object: 'subscription', customer: 'cus_rehearsal', status: 'past_due', cancel_at_period_end: false, items: { object: 'list', data: [] } } },
  });
}

/** POSTs a body to the function URL as Stripe does (https://docs.stripe.com/webhooks#verify-events). */
async function deliver(url: string, body: string, secret: string): Promise<{ status: number; body: string }> {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret });
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' }, body });
  return { status: response.status, body: await response.text() };
}

export const webhookReceives: Check = {
  name: 'the webhook accepts a signed Stripe event, which the billing consumer stores, and refuses a forged one',
  timeoutMs: 60_000,
  async run(rehearsal) {
    const url = rehearsal.functionUrls.get(rehearsal.fn('StripeWebhook').spec.logicalId);
    if (!url) throw new Error('the webhook has no function URL');
    const signed = await deliver(url, stripeEvent('evt_rehearsal_signed'), testSecrets['stripe-webhook-secret']);
    const forged = await deliver(url, stripeEvent('evt_rehearsal_forged'), 'whsec_not_the_endpoint_secret');
    if (signed.status !== 200) throw failure(`a signed event got ${signed.status} ${signed.body}\n  webhook log:\n${lastLogs(rehearsal, 'StripeWebhook')}`, rehearsal);
    if (forged.status !== 400) throw failure(`a forged event got ${forged.status} ${forged.body}`, rehearsal);
    const [stored] = await awaitResults(rehearsal, ['stripe-event:evt_rehearsal_signed'], 30_000);
    expectSucceeded([stored!]);
    const events = await rehearsal.database.rows<{ id: string }>(sql`select id from stripe_events where id in ('evt_rehearsal_signed', 'evt_rehearsal_forged')`);
    if (events.length !== 1 || events[0]!.id !== 'evt_rehearsal_signed') throw failure(`stripe_events holds ${JSON.stringify(events)}`, rehearsal);
    return `signed: ${signed.status}, stored by the billing consumer; forged: ${forged.status} ${forged.body.slice(0, 80)}…`;
  },
};

/**
 * Each schedule as Scheduler fires it: it assumes the schedule's role (its trust policy
 * must let scheduler.amazonaws.com in, aws:SourceArn being the schedule group's ARN:
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role),
 * then calls SendMessage on the target queue with `Target.Input` as the body.
 */
export const schedulesRun: Check = {
  name: "every schedule's input, sent with its role to its target queue, runs",
  timeoutMs: 90_000,
  async run(rehearsal) {
    const { template } = rehearsal.assembly;
    const time = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const ids: string[] = [];
    for (const [id, schedule] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
      const properties = resolve(schedule.Properties ?? {}, rehearsal.values) as { GroupName?: string; Target: { Arn: string; Input: string } };
      const roleId = ((schedule.Properties?.Target as { RoleArn: { 'Fn::GetAtt': [string] } }).RoleArn)['Fn::GetAtt'][0];
      const groupArn = `arn:aws:scheduler:${region}:${account}:schedule-group/${properties.GroupName ?? 'default'}`;
      const role = rolePolicies(template, roleId, rehearsal.values);
      if (!trusts(role.trustPolicy, 'scheduler.amazonaws.com', { 'aws:SourceAccount': account, 'aws:SourceArn': groupArn })) throw new Error(`${id}: Scheduler may not assume ${role.roleArn} for a schedule in ${groupArn}`);
      const queueUrl = rehearsal.queueUrl(properties.Target.Arn.split(':').pop()!);
      const body = scheduledInput(properties.Target.Input, time);
      const sqs = new SQSClient({ region, endpoint: rehearsal.front.endpoint, credentials: credentialsOf(roleId) });
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      } catch (error) {
        throw failure(`${id}: Scheduler's SendMessage with ${role.roleArn} failed: ${(error as Error).message}`, rehearsal);
      } finally {
        sqs.destroy();
      }
      ids.push((JSON.parse(body) as { id: string }).id);
    }
    const summary = expectSucceeded(await awaitResults(rehearsal, ids, 60_000));
    return `${summary}${longDelayRoleTrusted(rehearsal)}`;
  },
};

/** The producers' long-delay role (published as /…/task-etas/role-arn) must be assumable for schedules of its group too. */
function longDelayRoleTrusted(rehearsal: Rehearsal): string {
  const { template } = rehearsal.assembly;
  const parameter = (suffix: string) => resourcesOfType(template, 'AWS::SSM::Parameter').find(([, resource]) => String(resolve(resource.Properties?.Name, rehearsal.values)).endsWith(suffix))?.[1];
  const roleParameter = parameter('/task-etas/role-arn');
  const groupParameter = parameter('/task-etas/group');
  if (!roleParameter || !groupParameter) return '';
  const roleId = (roleParameter.Properties?.Value as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const groupArn = `arn:aws:scheduler:${region}:${account}:schedule-group/${String(resolve(groupParameter.Properties?.Value, rehearsal.values))}`;
  const role = rolePolicies(template, roleId, rehearsal.values);
  if (!trusts(role.trustPolicy, 'scheduler.amazonaws.com', { 'aws:SourceAccount': account, 'aws:SourceArn': groupArn })) throw new Error(`Scheduler may not assume the long-delay role ${role.roleArn} for a schedule in ${groupArn}`);
  return `; the long-delay role is assumable for ${groupArn}`;
}

type Rehearsal = Parameters<Check['run']>[0];
