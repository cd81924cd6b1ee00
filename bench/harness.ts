/**
 * The AWS side of the topology on the local emulators, for benchmarks that drive the handlers themselves: dynalite
 * (in memory), fauxqs (in memory), our EventBridge emulator, with the table, queues (DLQs and redrive), bus, rules
 * and targets created from `core/topology.ts` as the local stack creates them (`local/stack.ts`). Unlike the local
 * stack it starts no pollers, schedules or HTTP server: the benchmark plays the Lambda event source itself, so it
 * can count the event source's SQS calls and time each invocation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Topology } from '#core/topology.ts';
import type { EventBridgeEmulator } from '#local/eventbridge/server.ts';
import { ACCOUNT, BUS_NAME, provisionLocalAws, REGION, TABLE_NAME } from '#local/provision.ts';

export { REGION };
export const TABLE = TABLE_NAME;
export const BUS = BUS_NAME;

export interface BenchAws {
  topology: Topology;
  /** The env a handler reads (same names as on Lambda), pointing at the emulators. */
  env: Record<string, string>;
  queueUrls: Record<string, string>;
  /** A client for the benchmark's own SQS calls (the event source's receive/delete). */
  sqs: SQSClient;
  eb: EventBridgeEmulator;
  dataDir: string;
  stop(): Promise<void>;
}

export interface BenchAwsOptions {
  /** Wraps each rule delivery (e.g. to label the counted SendMessage calls). */
  wrapDelivery?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** The emulators in memory (`local/provision.ts`, as the local stack has them), blobs and outbox in a temp folder. */
export async function startBenchAws(opts: BenchAwsOptions = {}): Promise<BenchAws> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cityloop-bench-'));
  const aws = await provisionLocalAws({
    log: () => undefined,
    ...(opts.wrapDelivery ? { wrapDelivery: opts.wrapDelivery } : {}),
  });
  return {
    topology: aws.topology,
    env: { ...aws.env, CITYLOOP_DATA_DIR: dataDir },
    queueUrls: aws.queueUrls,
    sqs: aws.sqs,
    eb: aws.eb,
    dataDir,
    stop: async () => {
      await aws.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Points this process's handlers at `aws` (env + fresh SDK clients), as the local stack does. */
export async function useBenchAws(aws: BenchAws): Promise<void> {
  Object.assign(process.env, aws.env);
  const { resetAwsClients } = await import('#functions/lib/runtime.ts');
  resetAwsClients();
}

/** An API Gateway HTTP API (payload 2.0) event, as `local/apigw.ts` builds it. */
export function httpEvent(
  method: string,
  routePath: string,
  rawPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${method} ${routePath}`,
    rawPath,
    rawQueryString: '',
    headers: {
      host: '127.0.0.1',
      'user-agent': 'cityloop-bench',
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'cityloop-bench' },
      requestId: `bench-${now.getTime()}-${Math.random().toString(36).slice(2)}`,
      routeKey: `${method} ${routePath}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
    ...(text !== undefined ? { body: text } : {}),
    ...extra,
  };
}

/** The Lambda context handlers get (middy reads a few fields). */
export const LAMBDA_CONTEXT = {
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bench`,
  memoryLimitInMB: '512',
  awsRequestId: 'bench',
  logGroupName: 'bench',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
