/**
 * The daily aggregates' once-only marks against dynalite (the local DynamoDB): per case, a top-level attribute
 * `@<caseId>` holding the highest version counted on the item, so an item grows by about one entry per CASE, not one
 * token per transition, in one update. Items of the former scheme (a token per transition) are honoured.
 */
import { type AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { AggregateDelta } from '#core/sla/metrics.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology } from '#core/topology.ts';
import { type Emulator, startDynalite } from '#local/emulators.ts';
import { ensureTable } from '#local/provision.ts';
import { itemSize, numberSize, type WireItem } from '../../bench/cost-model.ts';

const TABLE = 'cityloop-aggregates';
let dynamo: Emulator;
let db: DynamoDBClient;

const key = { day: '2025-11-28', department: 'zhujian', category: 'ZF-01', street: 'street-pingshan', channel: 'web' };
const delta = (id: string, counters: AggregateDelta['counters']): AggregateDelta => ({ id, key, counters });
const itemKey = (id: string) => marshall({ pk: 'AGGMON#2025-11', sk: `2025-11-28#${id}` });
const read = async (id: string) =>
  (await db.send(new GetItemCommand({ TableName: TABLE, Key: itemKey(id), ConsistentRead: true }))).Item ?? {};
/** Its size by the rules the bench bills by. */
const sizeOf = (item: Record<string, AttributeValue>) => itemSize(item as unknown as WireItem);
/** A tracking number as the case id, as `caseIdFor` makes it (14 digits). */
const caseId = (n: number) => `20251128${String(n).padStart(6, '0')}`;
/** The counters of the m-th transition of a case on its received-day item (creation first). */
const step = (m: number): AggregateDelta['counters'] =>
  m === 1 ? { received: 1, dueToSign: 1 } : m % 2 === 0 ? { signedOnTime: 1 } : { handlingMs: 1000 };

beforeAll(async () => {
  dynamo = await startDynalite(undefined);
  db = new DynamoDBClient({
    endpoint: dynamo.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // The table as the local stack makes it.
  await ensureTable(db, TABLE, buildTopology(defaultDepartments));
});
afterAll(async () => {
  db?.destroy();
  await dynamo?.stop();
});

describe('DynamoStore aggregates on dynalite: one once-only entry per case', () => {
  it('should honour an item of the former token scheme and record case versions from then on, one call each', async () => {
    // Prepare: an item written by the former scheme (X@1 counted there, its token kept).
    const store = new DynamoStore(db, TABLE);
    await db.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall({ pk: 'AGGMON#2025-11', sk: '2025-11-28#probe', received: 1, applied: new Set(['X@1']) }),
      }),
    );
    // Act
    const again = await store.addToAggregates([delta('probe', { received: 1 })], 'X@1');
    const next = await store.addToAggregates([delta('probe', { received: 1 })], 'X@2');
    const retried = await store.addToAggregates([delta('probe', { received: 1 })], 'X@2');
    // Assess
    expect([again, next, retried]).toEqual([
      { applied: 0, skipped: 1 },
      { applied: 1, skipped: 0 },
      { applied: 0, skipped: 1 },
    ]);
    expect(unmarshall(await read('probe'))).toMatchObject({ received: 2, '@X': 2, applied: new Set(['X@1']) });
  });

  it('should grow an item by about one entry per case however many transitions, and change nothing on a retry', async () => {
    // Prepare: 40 cases × 6 transitions each on one item, each case's in version order (as the outbox counts them),
    // the cases interleaved; the even cases counted one transition per call, the odd ones all at once (a batch).
    const store = new DynamoStore(db, TABLE);
    const CASES = 40;
    const STEPS = 6;
    const transitions = (n: number) =>
      Array.from({ length: STEPS }, (_, i) => ({
        deltas: [delta('busy', step(i + 1))],
        token: `${caseId(n)}@${i + 1}`,
      }));
    const sizes: number[] = [];
    let applied = 0;
    // Act
    for (let n = 0; n < CASES; n++) {
      if (n % 2 === 0) {
        for (const t of transitions(n)) applied += (await store.addTransitionsToAggregates([t])).applied;
      } else applied += (await store.addTransitionsToAggregates(transitions(n))).applied;
      sizes.push(sizeOf(await read('busy')));
    }
    const before = await read('busy');
    const retried = [
      await store.addTransitionsToAggregates(transitions(7)),
      await store.addTransitionsToAggregates(transitions(8).slice(2, 4)),
      await store.addToAggregates(transitions(9)[0]!.deltas, transitions(9)[0]!.token),
    ];
    // Assess: every transition counted once.
    expect(applied).toBe(CASES * STEPS);
    const item = unmarshall(before);
    expect(item).toMatchObject({ received: CASES, dueToSign: CASES, signedOnTime: CASES * 3 });
    expect(item.handlingMs).toBe(CASES * 2 * 1000);
    expect(Object.keys(item).filter((k) => k.startsWith('@'))).toHaveLength(CASES);
    expect(item.applied).toBeUndefined();
    // One entry per case: its name `@<case id>` (15 bytes) + the version (a number); a counter's size may move by a byte
    // (a number is sized by its significant digits: 99 → 102 grows, 102 → 120 shrinks).
    const entry = 1 + caseId(0).length + numberSize(String(STEPS));
    const growth = sizes.map((s, i) => s - (sizes[i - 1] ?? s)).slice(1);
    for (const g of growth) {
      expect(g).toBeGreaterThanOrEqual(entry - 2);
      expect(g).toBeLessThanOrEqual(entry + 2);
    }
    expect(Math.abs((sizes.at(-1)! - sizes[0]!) / (CASES - 1) - entry)).toBeLessThan(0.5);
    // A token per transition would have grown it by STEPS × the token's bytes per case.
    expect(entry).toBeLessThan(STEPS * `${caseId(0)}@1`.length);
    // A retry changes nothing.
    expect(retried.map((r) => r.applied)).toEqual([0, 0, 0]);
    expect(await read('busy')).toEqual(before);
  });
});
