import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createSqsClient } from '../shared/aws.ts';
import { receiveStripeWebhook } from '../shared/billing/webhook.ts';
import { ConfigError, readConfig } from '../shared/config.ts';
import { serviceName } from '../shared/observability/index.ts';
import { readSecret } from '../shared/secrets.ts';

const logger = new Logger({ serviceName, persistentKeys: { function: 'stripe-webhook' } });
const env = process.env;
const config = readConfig(env);
const billingQueueUrl = config.queueUrls.billing;
if (!billingQueueUrl) throw new ConfigError('the Stripe webhook receiver needs QUEUE_URL_BILLING');
const sqs = createSqsClient(config);

const receive = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const response = await receiveStripeWebhook(
    {
      method: event.requestContext.http.method,
      body: event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? ''),
      signature: event.headers['stripe-signature'],
    },
    {
      signingSecret: () => readSecret('stripe-webhook-secret', env),
      enqueue: async (envelope) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: billingQueueUrl, MessageBody: JSON.stringify(envelope) }));
      },
      onEnqueueError: (error) => logger.error('could not queue a Stripe event; Stripe will deliver it again', { error }),
    },
  );
  if (response.status >= 400) logger.warn('webhook refused', { status: response.status, ...response.body });
  return { statusCode: response.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(response.body) };
};

/** The Stripe webhook endpoint, served by a Lambda function URL. */
export const handler = middy(receive).use(injectLambdaContext(logger));
