/**
 * The once-only marks of the daily aggregates (`@<caseId>` = the highest version of the case counted on the item),
 * through the real DynamoStore over the in-memory DynamoDB of the fault tests, which evaluates the conditions and
 * update expressions (and refuses a nested SET under a missing map as DynamoDB does: why the marks are top-level).
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { AggregateDelta } from '#core/sla/metrics.ts';
import { FakeDynamo } from '../faults/fake-aws.ts';

const key = { day: '2025-11-28', department: 'zhujian', category: 'ZF-01', street: '-', channel: 'web' };
const delta = (counters: AggregateDelta['counters'], id = 'agg-a'): AggregateDelta => ({ id, key, counters });
const itemKey = (id = 'agg-a') => `AGGMON#2025-11\u00002025-11-28#${id}`;

describe('Class: DynamoStore (aggregate once-only marks)', () => {
  let ddb: FakeDynamo;
  let restore: () => void;
  const store = () => new DynamoStore(new DynamoDBClient({}), 't');
  const item = (id?: string) => ddb.items.get(itemKey(id));

  beforeEach(() => {
    ddb = new FakeDynamo();
    const m = ddb.install();
    restore = () => m.restore();
  });
  afterEach(() => restore());

  it('should record the case version on the first write of an item, in that one update', async () => {
    // Act
    const r = await store().addToAggregates([delta({ received: 1 })], 'C1@1');
    // Assess
    expect(r).toEqual({ applied: 1, skipped: 0 });
    expect(ddb.calls).toBe(1);
    expect(item()).toMatchObject({ received: 1, '@C1': 1, day: '2025-11-28', department: 'zhujian' });
    expect(item()?.applied).toBeUndefined();
  });

  it('should skip a retried transition, apply a later version, and skip an earlier one after it', async () => {
    // Prepare
    const s = store();
    await s.addToAggregates([delta({ received: 1 })], 'C1@1');
    ddb.calls = 0;
    // Act
    const retried = await s.addToAggregates([delta({ received: 1 })], 'C1@1');
    const later = await s.addToAggregates([delta({ signedOnTime: 1 })], 'C1@3');
    const earlier = await s.addToAggregates([delta({ signedOnTime: 1 })], 'C1@2');
    const other = await s.addToAggregates([delta({ received: 1 })], 'C2@1');
    // Assess: one update each.
    expect([retried, later, earlier, other].map((r) => r.applied)).toEqual([0, 1, 0, 1]);
    expect(ddb.calls).toBe(4);
    expect(item()).toMatchObject({ received: 2, signedOnTime: 1, '@C1': 3, '@C2': 1 });
  });

  it('should not count again what an item of the former token set counted, and add no token to it', async () => {
    // Prepare: an item of the former scheme: a token per transition, no case versions.
    ddb.items.set(itemKey(), {
      pk: 'AGGMON#2025-11',
      sk: '2025-11-28#agg-a',
      ...key,
      received: 2,
      applied: new Set(['C1@1', 'C2@1']),
    });
    const s = store();
    // Act
    const counted = await s.addToAggregates([delta({ received: 1 })], 'C1@1');
    const next = await s.addToAggregates([delta({ signedOnTime: 1 })], 'C1@2');
    const countedAfterMap = await s.addToAggregates([delta({ received: 1 })], 'C2@1');
    const fresh = await s.addToAggregates([delta({ received: 1 })], 'C3@1');
    // Assess
    expect([counted, next, countedAfterMap, fresh].map((r) => r.applied)).toEqual([0, 1, 0, 1]);
    expect(item()).toMatchObject({ received: 3, signedOnTime: 1, '@C1': 2, '@C3': 1 });
    expect(item()?.applied).toEqual(new Set(['C1@1', 'C2@1']));
  });

  it('should sum a batch on one item under one condition, and fall back in version order where it fails', async () => {
    // Prepare: C1 counted up to version 2 here already.
    const s = store();
    await s.addTransitionsToAggregates([
      { deltas: [delta({ received: 1 })], token: 'C1@1' },
      { deltas: [delta({ signedOnTime: 1 })], token: 'C1@2' },
    ]);
    expect(item()).toMatchObject({ received: 1, signedOnTime: 1, '@C1': 2 });
    ddb.calls = 0;
    // Act: a retry that owes C1@2 again, C1@3 and a new case C2.
    const r = await s.addTransitionsToAggregates([
      { deltas: [delta({ signedOnTime: 1 })], token: 'C1@2' },
      { deltas: [delta({ closed: 1 })], token: 'C1@3' },
      { deltas: [delta({ received: 1 })], token: 'C2@1' },
    ]);
    // Assess: the group refused, then three updates in order (C1@2 skipped).
    expect(r).toEqual({ applied: 2, skipped: 1 });
    expect(ddb.calls).toBe(4);
    expect(item()).toMatchObject({ received: 2, signedOnTime: 1, closed: 1, '@C1': 3, '@C2': 1 });
  });

  it('should keep the token set for a token without a version (a withdrawal)', async () => {
    // Prepare
    const s = store();
    await s.addToAggregates([delta({ received: 1 })], 'C1@1');
    // Act
    const first = await s.addToAggregates([delta({ received: -1 })], 'C1@1-');
    const again = await s.addToAggregates([delta({ received: -1 })], 'C1@1-');
    // Assess
    expect([first.applied, again.applied]).toEqual([1, 0]);
    expect(item()).toMatchObject({ received: 0, '@C1': 1, applied: new Set(['C1@1-']) });
  });

  it('should leave an item unchanged when the nested path is refused (the fake as DynamoDB)', async () => {
    // Prepare: an item without the map.
    ddb.items.set(itemKey(), { pk: 'AGGMON#2025-11', sk: '2025-11-28#agg-a', received: 1 });
    const db = new DynamoDBClient({});
    // Act
    const out = db.send(
      new UpdateItemCommand({
        TableName: 't',
        Key: { pk: { S: 'AGGMON#2025-11' }, sk: { S: '2025-11-28#agg-a' } },
        UpdateExpression: 'SET #s.#c = :v ADD #n :one',
        ConditionExpression: 'attribute_not_exists(#s.#c)',
        ExpressionAttributeNames: { '#s': 'seen', '#c': 'C1', '#n': 'received' },
        ExpressionAttributeValues: { ':v': { N: '1' }, ':one': { N: '1' } },
      }),
    );
    // Assess
    await expect(out).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'The document path provided in the update expression is invalid for update',
    });
    expect(item()).toEqual({ pk: 'AGGMON#2025-11', sk: '2025-11-28#agg-a', received: 1 });
  });
});
