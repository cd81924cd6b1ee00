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
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, queueEnvName, type Topology } from '#core/topology.ts';
import { startDynalite, startFauxqsLoopback } from '#local/emulators.ts';
import { type EventBridgeEmulator, startEventBridgeEmulator } from '#local/eventbridge/server.ts';
import { queueArnOf } from '#local/poller.ts';

export const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
export const TABLE = 'cityloop';
export const BUS = 'cityloop-bus';

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

export async function startBenchAws(opts: BenchAwsOptions = {}): Promise<BenchAws> {
  const topology = buildTopology(defaultDepartments);
  const dataDir = mkdtempSync(join(tmpdir(), 'cityloop-bench-'));
  const credentials = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: REGION };
  const dynamo = await startDynalite(undefined);
  const fauxqs = await startFauxqsLoopback(undefined);
  const sqs = new SQSClient({ endpoint: fauxqs.url, region: REGION, useQueueUrlAsEndpoint: false, credentials: creds });
  const queueUrls: Record<string, string> = {};
  const queueArns: Record<string, string> = {};
  for (const q of [...topology.queues].sort((a, b) => Number(b.kind === 'dlq') - Number(a.kind === 'dlq'))) {
    const attributes: Record<string, string> = { VisibilityTimeout: String(q.visibilityTimeoutSec) };
    if (q.dlq) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: queueArns[q.dlq],
        maxReceiveCount: q.maxReceiveCount,
      });
    }
    const out = await sqs.send(new CreateQueueCommand({ QueueName: `cityloop-${q.id}`, Attributes: attributes }));
    queueUrls[q.id] = out.QueueUrl!;
    queueArns[q.id] = await queueArnOf(sqs, out.QueueUrl!);
  }
  const urlByArn = new Map(Object.entries(queueArns).map(([id, arn]) => [arn, queueUrls[id]!]));
  const wrap = opts.wrapDelivery ?? (<T>(fn: () => Promise<T>) => fn());
  const eb = await startEventBridgeEmulator({
    account: ACCOUNT,
    region: REGION,
    log: () => undefined,
    deliver: async (arn, body) => {
      const url = urlByArn.get(arn);
      if (!url) throw new Error(`no queue for ${arn}`);
      await wrap(() => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body })));
    },
  });
  const events = new EventBridgeClient({ endpoint: eb.url, region: REGION, credentials: creds });
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  for (const r of topology.rules) {
    await events.send(
      new PutRuleCommand({ Name: `cityloop-${r.id}`, EventBusName: BUS, EventPattern: JSON.stringify(r.pattern) }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: `cityloop-${r.id}`,
        EventBusName: BUS,
        Targets: [{ Id: 'queue', Arn: queueArns[r.targetQueue]!, DeadLetterConfig: { Arn: queueArns[r.targetDlq]! } }],
      }),
    );
  }
  const db = new DynamoDBClient({ endpoint: dynamo.url, region: REGION, credentials: creds });
  const attrs = new Set(['pk', 'sk', ...topology.table.indexes.flatMap((i) => [i.pk, i.sk])]);
  await db.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attrs].map((a) => ({ AttributeName: a, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: topology.table.indexes.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.pk, KeyType: 'HASH' },
          { AttributeName: i.sk, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  const env: Record<string, string> = {
    ...credentials,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SQS: fauxqs.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eb.url,
    TABLE_NAME: TABLE,
    EVENT_BUS_NAME: BUS,
    CITYLOOP_DATA_DIR: dataDir,
    ...Object.fromEntries(Object.entries(queueUrls).map(([id, url]) => [queueEnvName(id), url])),
  };
  return {
    topology,
    env,
    queueUrls,
    sqs,
    eb,
    dataDir,
    stop: async () => {
      await eb.stop();
      await fauxqs.stop();
      await dynamo.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const creds = { accessKeyId: 'local', secretAccessKey: 'local' };

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
