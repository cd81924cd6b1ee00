/**
 * `ensureTable` (local/provision.ts) on dynalite: a data folder made before an index existed is migrated (every item
 * copied into a table with every index, the cases' index attributes derived again, so the new index lists them), and
 * a migration a crash interrupted is finished from its copy on disk on the next start.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { caseIndexAttributes, DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, type Topology } from '#core/topology.ts';
import { type Emulator, startDynalite } from '#local/emulators.ts';
import { ensureTable, provisionLocalAws, TABLE_NAME } from '#local/provision.ts';
import { triagedCase } from '../unit/cases/fakes.ts';

const topology = buildTopology(defaultDepartments);
/** The topology as it was before the `pending` index. */
const older: Topology = {
  ...topology,
  table: { ...topology.table, indexes: topology.table.indexes.filter((i) => i.name !== 'pending') },
};
const FILLER = 60;

let dynamo: Emulator;
let db: DynamoDBClient;
let dir: string;
let n = 0;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite(undefined, 0, { thread: false });
  db = new DynamoDBClient({
    endpoint: dynamo.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(() => {
  table = `cityloop-migrate-${++n}`;
  dir = mkdtempSync(join(tmpdir(), 'cityloop-migrate-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

/** A chengguan case in hand with a 延期申请 waiting for a supervisor. */
function waitingCase(): Case {
  const c = triagedCase('20251128000001');
  return {
    ...c,
    state: 'signed',
    pending: {
      kind: 'extension',
      reason: '等待物资',
      requestedAt: '2025-11-29T10:00:00.000+08:00',
      requestedBy: { role: 'department', id: 'cg-clerk' },
      newDueAt: '2025-12-30T18:00:00.000+08:00',
    },
    announcedVersion: c.version,
  } as Case;
}

/** A table as an older CityLoop left it: without the `pending` index, a waiting case without its keys, and more. */
async function oldTable(): Promise<Case> {
  await ensureTable(db, table, older);
  const store = new DynamoStore(db, table);
  const c = waitingCase();
  await store.createCase(c);
  await store.createCase(triagedCase('20251128000002', '和平路90号路灯也不亮'));
  // As the store wrote a case before the index existed.
  await db.send(
    new UpdateItemCommand({
      TableName: table,
      Key: marshall({ pk: `CASE#${c.caseId}`, sk: 'CASE' }),
      UpdateExpression: 'REMOVE pendPk, pendSk',
    }),
  );
  for (let i = 0; i < FILLER; i++) {
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({ pk: `DDK#k${i}`, sk: `c${i}`, n: i, tags: new Set(['a', `t${i}`]) }),
      }),
    );
  }
  return c;
}

const indexesOf = async (name: string) =>
  ((await db.send(new DescribeTableCommand({ TableName: name }))).Table?.GlobalSecondaryIndexes ?? [])
    .map((g) => g.IndexName)
    .sort();
const countOf = async (name: string) => {
  let count = 0;
  let start: Record<string, never> | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await db.send(new ScanCommand({ TableName: name, Select: 'COUNT', ExclusiveStartKey: start }));
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
    if (!start) break;
  }
  return count;
};

describe('Function: ensureTable (local data folder migration)', () => {
  it('should migrate a table made before an index: every item back, the new index listing the cases', async () => {
    // Prepare
    const c = await oldTable();
    const lines: string[] = [];
    // Act
    const result = await ensureTable(db, table, topology, { backupDir: dir, log: (l) => lines.push(l) });
    // Assess
    expect(result).toEqual({ created: true, migrated: FILLER + 2, added: ['pending'] });
    expect(lines).toEqual([
      `数据表已迁移 migrated table ${table} to the current indexes (added pending): ${FILLER + 2} items`,
    ]);
    expect(await indexesOf(table)).toEqual(topology.table.indexes.map((i) => i.name).sort());
    expect(await countOf(table)).toBe(FILLER + 2);
    const store = new DynamoStore(db, table);
    expect(await store.getCase(c.caseId)).toEqual(c);
    expect((await store.listPendingRequests('chengguan')).cases.map((x) => x.caseId)).toEqual([c.caseId]);
    const filler = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': 'DDK#k7' }),
      }),
    );
    expect(filler.Items).toEqual([marshall({ pk: 'DDK#k7', sk: 'c7', n: 7, tags: new Set(['a', 't7']) })]);
    expect(existsSync(join(dir, `${table}-migration.json`))).toBe(false);
  });

  it('should do nothing to a table that has every index', async () => {
    // Prepare
    await ensureTable(db, table, topology);
    await new DynamoStore(db, table).createCase(waitingCase());
    const lines: string[] = [];
    // Act
    const result = await ensureTable(db, table, topology, { backupDir: dir, log: (l) => lines.push(l) });
    // Assess
    expect(result).toEqual({ created: false, migrated: 0, added: [] });
    expect(lines).toEqual([]);
    expect(await countOf(table)).toBe(1);
  });

  it('should restore the copy of a migration a crash stopped after the old table was deleted', async () => {
    // Prepare: what the migration scanned is on disk, the table is gone
    const c = await oldTable();
    const items = (await db.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect(items.length).toBe(FILLER + 2);
    writeFileSync(join(dir, `${table}-migration.json`), JSON.stringify(items));
    await db.send(new DeleteTableCommand({ TableName: table }));
    const lines: string[] = [];
    // Act
    const result = await ensureTable(db, table, topology, { backupDir: dir, log: (l) => lines.push(l) });
    // Assess
    expect(result).toEqual({ created: true, migrated: FILLER + 2, added: [] });
    expect(lines[0]).toMatch(/^数据表迁移已恢复 restored table .*: 62 items$/);
    expect(await countOf(table)).toBe(FILLER + 2);
    expect((await new DynamoStore(db, table).listPendingRequests('chengguan')).cases).toEqual([c]);
    expect(existsSync(join(dir, `${table}-migration.json`))).toBe(false);
  });

  it('should finish a migration a crash stopped while writing the items back', async () => {
    // Prepare: the copy on disk, the new table created with every index and only one item written back
    const c = await oldTable();
    const items = (await db.send(new ScanCommand({ TableName: table }))).Items ?? [];
    writeFileSync(join(dir, `${table}-migration.json`), JSON.stringify(items));
    await db.send(new DeleteTableCommand({ TableName: table }));
    await ensureTable(db, table, topology);
    await db.send(new PutItemCommand({ TableName: table, Item: items[0]! }));
    // Act
    const result = await ensureTable(db, table, topology, { backupDir: dir });
    // Assess
    expect(result).toEqual({ created: false, migrated: FILLER + 2, added: [] });
    expect(await countOf(table)).toBe(FILLER + 2);
    expect((await new DynamoStore(db, table).listPendingRequests('chengguan')).cases).toEqual([c]);
    expect(existsSync(join(dir, `${table}-migration.json`))).toBe(false);
  });
});

describe('Function: ensureTable (a crash while writing back)', () => {
  it('should keep every item, binary ones too, through a migration that failed half-way, and finish it on restart', async () => {
    // Prepare: an old table with a binary attribute; a client whose second BatchWriteItem fails (the process stops)
    const c = await oldTable();
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({ pk: 'BLOB#1', sk: 'B', data: new Uint8Array([0, 1, 254]) }),
      }),
    );
    const crashing = new DynamoDBClient({
      endpoint: dynamo.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    let writes = 0;
    crashing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchWriteItemCommand' && ++writes === 2) throw new Error('crash');
        return next(args);
      },
      { step: 'initialize' },
    );
    // Act
    await expect(ensureTable(crashing, table, topology, { backupDir: dir })).rejects.toThrow('crash');
    const copyKept = existsSync(join(dir, `${table}-migration.json`));
    const half = await countOf(table);
    const result = await ensureTable(db, table, topology, { backupDir: dir });
    // Assess
    expect(copyKept).toBe(true);
    expect(half).toBe(25);
    expect(result).toEqual({ created: false, migrated: FILLER + 3, added: [] });
    expect(await countOf(table)).toBe(FILLER + 3);
    const blob = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': 'BLOB#1' }),
      }),
    );
    expect(blob.Items?.[0]?.data?.B).toEqual(new Uint8Array([0, 1, 254]));
    expect((await new DynamoStore(db, table).listPendingRequests('chengguan')).cases).toEqual([c]);
    expect(existsSync(join(dir, `${table}-migration.json`))).toBe(false);
  });
});

describe('Function: provisionLocalAws (a data folder from an older CityLoop)', () => {
  it('should start on it, migrating its table and saying so in one line', async () => {
    // Prepare: the folder's DynamoDB as an older version left it (its own dynalite, stopped)
    const old = await startDynalite(join(dir, 'dynamodb'));
    const oldDb = new DynamoDBClient({
      endpoint: old.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(oldDb, TABLE_NAME, older);
    const c = waitingCase();
    const { pendPk: _pk, pendSk: _sk, ...item } = caseIndexAttributes(c);
    const { announcedVersion, ...doc } = c;
    await oldDb.send(
      new PutItemCommand({
        TableName: TABLE_NAME,
        Item: marshall({
          pk: `CASE#${c.caseId}`,
          sk: 'CASE',
          version: c.version,
          state: c.state,
          announcedVersion,
          ...item,
          doc: JSON.stringify(doc),
        }),
      }),
    );
    oldDb.destroy();
    await old.stop();
    const lines: string[] = [];
    // Act
    const aws = await provisionLocalAws({ dataDir: dir, log: (l) => lines.push(l) });
    try {
      // Assess
      expect(lines).toContain(
        `数据表已迁移 migrated table ${TABLE_NAME} to the current indexes (added pending): 1 items`,
      );
      expect((await new DynamoStore(aws.db, TABLE_NAME).listPendingRequests('chengguan')).cases).toEqual([c]);
    } finally {
      await aws.stop();
    }
  });
});

describe('Function: ensureTable (creating)', () => {
  it('should create a missing table with every index of the topology', async () => {
    // Act
    const result = await ensureTable(db, table, topology, { backupDir: dir });
    // Assess
    expect(result).toEqual({ created: true, migrated: 0, added: [] });
    expect(await indexesOf(table)).toEqual(topology.table.indexes.map((i) => i.name).sort());
  });
});
