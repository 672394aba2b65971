// What Lambda's Node.js runtime does in an execution environment, reduced to its contract:
// load `_HANDLER` from LAMBDA_TASK_ROOT once, then loop on the Runtime API's
// next → response | error. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// It is copied outside the task folder, as Lambda's own runtime sits in /var/runtime.
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

/** node:http rather than fetch: a `next` call waits as long as the environment is idle, past fetch's header timeout. */
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const outgoing = request(`${api}${path}`, { method, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Lambda's error shape: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html */
const errorBody = (error, type) => ({
  errorType: type ?? (error instanceof Error ? error.name : 'Error'),
  errorMessage: error instanceof Error ? error.message : String(error),
  trace: error instanceof Error && error.stack ? error.stack.split('\n') : [],
});

async function loadHandler() {
  const handlerSetting = process.env._HANDLER ?? '';
  const dot = handlerSetting.lastIndexOf('.');
  const [moduleName, exportName] = [handlerSetting.slice(0, dot), handlerSetting.slice(dot + 1)];
  // The Node.js runtime tries these extensions in this order.
  const file = ['.js', '.mjs', '.cjs'].map((extension) => join(process.env.LAMBDA_TASK_ROOT ?? '', `${moduleName}${extension}`)).find((path) => existsSync(path));
  if (!file) throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { name: 'Runtime.ImportModuleError' });
  let loaded;
  try {
    loaded = await import(pathToFileURL(file).href);
  } catch (error) {
    throw Object.assign(new Error(`${error?.code ?? error?.name}: ${error?.message}`), { name: 'Runtime.ImportModuleError', cause: error });
  }
  const handler = loaded[exportName];
  if (typeof handler !== 'function') throw Object.assign(new Error(`${handlerSetting} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return handler;
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  await call('POST', '/init/error', errorBody(error, error.name));
  process.exit(1);
}

for (;;) {
  const next = await call('GET', '/invocation/next');
  const requestId = String(next.headers['lambda-runtime-aws-request-id']);
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = String(next.headers['lambda-runtime-trace-id']);
  const context = {
    awsRequestId: requestId,
    invokedFunctionArn: String(next.headers['lambda-runtime-invoked-function-arn']),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(JSON.parse(next.body), context);
    await call('POST', `/invocation/${requestId}/response`, result === undefined ? null : result);
  } catch (error) {
    await call('POST', `/invocation/${requestId}/error`, errorBody(error));
  }
}
