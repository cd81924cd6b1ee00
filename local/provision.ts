/**
 * The AWS side of the topology on the local emulators: dynalite, fauxqs and our EventBridge emulator on 127.0.0.1,
 * with the table, queues (DLQs first, with their redrive policies), bus, rules and targets created from
 * `core/topology.ts`, the same topology the CDK stack deploys. The local stack (`./stack.ts`) puts its handlers,
 * pollers and HTTP server on top; the benchmarks (`bench/harness.ts`) drive the handlers themselves.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CASE_INDEX_ATTRIBUTES, caseIndexAttributes } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
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
    await ensureTable(db, TABLE_NAME, topology, {
      ...(opts.dataDir ? { backupDir: opts.dataDir } : {}),
      log: opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
    });

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

export interface EnsureTableOptions {
  /**
   * Folder for the copy of the items while the table is migrated (`<table>-migration.json`): written before the old
   * table is deleted, read back on the next start if a crash left the table missing or half filled, removed once every
   * item is back. Absent (an in-memory stack): the copy is kept in memory only.
   */
  backupDir?: string;
  /** The one line saying a table was migrated or restored (default: none). */
  log?: (line: string) => void;
}

export interface EnsureTableResult {
  created: boolean;
  /** Items copied into the new table (a migration, or a restore of a migration a crash interrupted). */
  migrated: number;
  /** Indexes the old table lacked (a migration). */
  added: string[];
}

type RawItem = Record<string, AttributeValue>;

/** Pages of a Scan read before giving up (a data folder of a development stack holds far fewer). */
const MAX_SCAN_PAGES = 100_000;
/** BatchWriteItem takes at most 25 puts. */
const BATCH = 25;
/** Rounds of re-sending the puts a BatchWriteItem left unprocessed, before failing (the copy stays on disk). */
const MAX_BATCH_ROUNDS = 12;

/**
 * Creates the table with the topology's indexes (every index projects ALL here: dynalite's projections are not what
 * is billed; `infra/stack.ts` declares the deployed ones), or checks that an existing one has them all. dynalite cannot
 * add an index to an existing table (no UpdateTable GSI creation), so a data folder made before an index is migrated:
 * every item is read (a paginated Scan), kept in a file of the data folder, the table deleted and created again with
 * every index, and the items written back (BatchWriteItem, 25 at a time) with each case's index attributes derived
 * again (`caseIndexAttributes`, what the store writes today), so the new index lists the cases already there. A crash
 * in between loses nothing: the next start finds the file and finishes the job.
 */
export async function ensureTable(
  db: DynamoDBClient,
  name: string,
  topology: Topology,
  opts: EnsureTableOptions = {},
): Promise<EnsureTableResult> {
  const backup = opts.backupDir ? join(opts.backupDir, `${name}-migration.json`) : undefined;
  const existing = await describeIndexes(db, name);
  const missing = existing ? topology.table.indexes.filter((i) => !existing.includes(i.name)).map((i) => i.name) : [];
  if (existing && missing.length === 0) {
    // A migration stopped after the new table was created: put back what the copy holds (puts are idempotent).
    if (!backup || !existsSync(backup)) return { created: false, migrated: 0, added: [] };
    const n = await restore(db, name, backup);
    opts.log?.(`数据表迁移已完成 finished the interrupted migration of table ${name}: ${n} items written back`);
    return { created: false, migrated: n, added: [] };
  }
  let items: RawItem[] | undefined;
  if (existing) {
    items = await scanAll(db, name);
    if (backup) writeBackup(backup, items);
    await db.send(new DeleteTableCommand({ TableName: name }));
    if ((await describeIndexes(db, name)) !== undefined) throw new Error(`table ${name} is still there after delete`);
  }
  await createTable(db, name, topology);
  if (items) {
    await writeAll(db, name, items);
    if (backup) rmSync(backup, { force: true });
    opts.log?.(
      `数据表已迁移 migrated table ${name} to the current indexes (added ${missing.join(', ')}): ${items.length} items`,
    );
    return { created: true, migrated: items.length, added: missing };
  }
  // The table is missing: a migration may have stopped between the delete and the write back.
  if (backup && existsSync(backup)) {
    const n = await restore(db, name, backup);
    opts.log?.(`数据表迁移已恢复 restored table ${name} from an interrupted migration: ${n} items`);
    return { created: true, migrated: n, added: [] };
  }
  return { created: true, migrated: 0, added: [] };
}

/** The table's index names, or undefined when it does not exist (a table being deleted is waited for: it will not). */
async function describeIndexes(db: DynamoDBClient, name: string): Promise<string[] | undefined> {
  for (let i = 0; i < 200; i++) {
    try {
      const out = await db.send(new DescribeTableCommand({ TableName: name }));
      if (out.Table?.TableStatus !== 'DELETING') {
        return (out.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName ?? '');
      }
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for table ${name} to be deleted`);
}

async function waitFor(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function createTable(db: DynamoDBClient, name: string, topology: Topology): Promise<void> {
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
  await waitFor(async () => {
    const out = await db.send(new DescribeTableCommand({ TableName: name }));
    return out.Table?.TableStatus === 'ACTIVE';
  }, `table ${name} to be active`);
}

/** Every item of the table (a consistent, paginated Scan). */
async function scanAll(db: DynamoDBClient, name: string): Promise<RawItem[]> {
  const items: RawItem[] = [];
  let start: ScanCommandOutput['LastEvaluatedKey'];
  for (let page = 0; page < MAX_SCAN_PAGES; page++) {
    const out: ScanCommandOutput = await db.send(
      new ScanCommand({ TableName: name, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
    if (!start) return items;
  }
  throw new Error(`table ${name}: more than ${MAX_SCAN_PAGES} Scan pages`);
}

/**
 * A case item (`CASE#…`/`CASE`) with its index attributes as the store writes them today (the new index filled);
 * any other item, or a case whose document cannot be read, as it was.
 */
export function withCurrentIndexKeys(item: RawItem): RawItem {
  if (item.sk?.S !== 'CASE' || !item.pk?.S?.startsWith('CASE#') || item.doc?.S === undefined) return item;
  let c: Case;
  try {
    c = JSON.parse(item.doc.S) as Case;
  } catch {
    return item;
  }
  if (typeof c?.caseId !== 'string') return item;
  const out: RawItem = { ...item };
  for (const a of CASE_INDEX_ATTRIBUTES) delete out[a];
  for (const [a, v] of Object.entries(caseIndexAttributes(c))) if (v !== undefined) out[a] = { S: v };
  return out;
}

/** Puts every item (25 per BatchWriteItem), re-sending what is left unprocessed a bounded number of times. */
async function writeAll(db: DynamoDBClient, name: string, items: readonly RawItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    let requests: WriteRequest[] = items
      .slice(i, i + BATCH)
      .map((item) => ({ PutRequest: { Item: withCurrentIndexKeys(item) } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round >= MAX_BATCH_ROUNDS) {
        throw new Error(
          `table ${name}: ${requests.length} items still unprocessed after ${round} BatchWriteItem calls`,
        );
      }
      if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round)));
      const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [name]: requests } }));
      requests = out.UnprocessedItems?.[name] ?? [];
    }
  }
}

/** The copy on disk: DynamoDB JSON, binary values as base64 (`{ "$b64": … }`); written whole, then renamed. */
function writeBackup(path: string, items: readonly RawItem[]): void {
  const tmp = `${path}.tmp`;
  writeFileSync(
    tmp,
    JSON.stringify(items, (_k, v: unknown) =>
      v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v,
    ),
  );
  renameSync(tmp, path);
}

async function restore(db: DynamoDBClient, name: string, path: string): Promise<number> {
  const items = JSON.parse(readFileSync(path, 'utf8'), (_k, v: unknown) =>
    v !== null && typeof v === 'object' && typeof (v as { $b64?: unknown }).$b64 === 'string'
      ? new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'))
      : v,
  ) as RawItem[];
  await writeAll(db, name, items);
  rmSync(path, { force: true });
  return items.length;
}
