/**
 * The AWS side of the topology on the local emulators: dynalite, fauxqs and our EventBridge emulator on 127.0.0.1,
 * with the table, queues (DLQs first, with their redrive policies), bus, rules and targets created from
 * `core/topology.ts`, the same topology the CDK stack deploys. The local stack (`./stack.ts`) puts its handlers,
 * pollers and HTTP server on top; the benchmarks (`bench/harness.ts`) drive the handlers themselves.
 */
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, queueEnvName, type Topology } from '#core/topology.ts';
import { type Emulator, startDynalite, startFauxqsLoopback } from './emulators.ts';
import { type EventBridgeEmulator, startEventBridgeEmulator } from './eventbridge/server.ts';
import { queueArnOf } from './poller.ts';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const TABLE_NAME = 'cityloop';
export const BUS_NAME = 'cityloop-bus';
/** Static credentials the emulators accept (they do not check signatures). */
export const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: REGION };
const clientCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface ProvisionOptions {
  /** Folder for the emulators' data (dynamodb/, sqs/, eventbridge/); absent → everything in memory. */
  dataDir?: string;
  /** Wraps each rule delivery to a queue (e.g. to label the counted SendMessage calls). */
  wrapDelivery?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The EventBridge emulator's diagnostics (default: stderr). */
  log?: (line: string) => void;
}

export interface LocalAws {
  topology: Topology;
  dynamo: Emulator;
  sqsEmulator: Emulator;
  eb: EventBridgeEmulator;
  /** A client on the SQS emulator (pollers, deliveries, the benchmarks' event source). */
  sqs: SQSClient;
  db: DynamoDBClient;
  tableName: string;
  busName: string;
  queueUrls: Record<string, string>;
  queueArns: Record<string, string>;
  /** The env a handler reads (the same names as on Lambda), pointing at the emulators. */
  env: Record<string, string>;
  /** Stops the emulators (EventBridge, then SQS, then DynamoDB). */
  stop(): Promise<void>;
}

/** Starts the emulators and creates the topology's resources in them. On failure, what was started is stopped. */
export async function provisionLocalAws(opts: ProvisionOptions = {}): Promise<LocalAws> {
  const topology = buildTopology(defaultDepartments);
  const dir = (name: string) => (opts.dataDir ? join(opts.dataDir, name) : undefined);
  const stops: (() => Promise<void>)[] = [];
  try {
    const dynamo = await startDynalite(dir('dynamodb'));
    stops.push(dynamo.stop);
    const sqsEmulator = await startFauxqsLoopback(dir('sqs'));
    stops.push(sqsEmulator.stop);
    const sqs = new SQSClient({
      endpoint: sqsEmulator.url,
      region: REGION,
      useQueueUrlAsEndpoint: false,
      credentials: clientCredentials,
    });

    // Queues: DLQs first, so each queue's redrive policy can name its DLQ's ARN.
    const queueUrls: Record<string, string> = {};
    const queueArns: Record<string, string> = {};
    for (const q of [...topology.queues].sort((a, b) => Number(b.kind === 'dlq') - Number(a.kind === 'dlq'))) {
      const attributes: Record<string, string> = {
        VisibilityTimeout: String(q.visibilityTimeoutSec),
        MessageRetentionPeriod: String(q.retentionDays * 86400),
      };
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
      ...(opts.dataDir ? { archiveDir: join(opts.dataDir, 'eventbridge') } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      deliver: async (arn: string, body: string) => {
        const url = urlByArn.get(arn);
        if (!url) throw new Error(`no local queue for ${arn}`);
        await wrap(() => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body })));
      },
    });
    stops.push(eb.stop);
    const events = new EventBridgeClient({ endpoint: eb.url, region: REGION, credentials: clientCredentials });
    await events.send(new CreateEventBusCommand({ Name: BUS_NAME })).catch((e: Error) => {
      if (!/exists/i.test(e.name + e.message)) throw e;
    });
    for (const r of topology.rules) {
      await events.send(
        new PutRuleCommand({
          Name: `cityloop-${r.id}`,
          EventBusName: BUS_NAME,
          EventPattern: JSON.stringify(r.pattern),
          Description: r.description,
          State: 'ENABLED',
        }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: `cityloop-${r.id}`,
          EventBusName: BUS_NAME,
          Targets: [
            { Id: 'queue', Arn: queueArns[r.targetQueue]!, DeadLetterConfig: { Arn: queueArns[r.targetDlq]! } },
          ],
        }),
      );
    }

    const db = new DynamoDBClient({ endpoint: dynamo.url, region: REGION, credentials: clientCredentials });
    await ensureTable(db, TABLE_NAME, topology);

    const env: Record<string, string> = {
      ...LOCAL_CREDENTIALS,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_SQS: sqsEmulator.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eb.url,
      TABLE_NAME,
      EVENT_BUS_NAME: BUS_NAME,
      ...Object.fromEntries(Object.entries(queueUrls).map(([id, url]) => [queueEnvName(id), url])),
    };
    return {
      topology,
      dynamo,
      sqsEmulator,
      eb,
      sqs,
      db,
      tableName: TABLE_NAME,
      busName: BUS_NAME,
      queueUrls,
      queueArns,
      env,
      stop: async () => {
        await eb.stop();
        await sqsEmulator.stop();
        await dynamo.stop();
      },
    };
  } catch (e) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw e;
  }
}

/**
 * Creates the table with the topology's indexes (every index projects ALL here: dynalite's projections are not what
 * is billed; `infra/stack.ts` declares the deployed ones), or checks that an existing one has them all.
 */
async function ensureTable(db: DynamoDBClient, name: string, topology: Topology): Promise<void> {
  let existing: string[] | undefined;
  try {
    const out = await db.send(new DescribeTableCommand({ TableName: name }));
    existing = (out.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName ?? '');
  } catch (e) {
    if ((e as Error).name !== 'ResourceNotFoundException') throw e;
  }
  if (existing) {
    // dynalite cannot add an index to an existing table: a data folder from an older version must be moved away.
    const missing = topology.table.indexes.filter((i) => !existing.includes(i.name)).map((i) => i.name);
    if (missing.length > 0) {
      throw new Error(
        `数据目录来自旧版本 the data folder was made by an older CityLoop: its table lacks the index(es) ${missing.join(', ')}. ` +
          'Move the data folder (CITYLOOP_DATA_DIR, default .cityloop) away and start again.',
      );
    }
    return;
  }
  const attrs = new Set(['pk', 'sk', ...topology.table.indexes.flatMap((i) => [i.pk, i.sk])]);
  await db.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attrs].map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: topology.table.indexes.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.pk, KeyType: 'HASH' as const },
          { AttributeName: i.sk, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  );
}
