import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import { caseDueKey } from '#core/sla/due-key.ts';
import type { AggregateDelta } from '#core/sla/metrics.ts';
import { makeCase } from './case-fixtures.ts';

const db = mockClient(DynamoDBClient);
const store = () => new DynamoStore(new DynamoDBClient({}), 't');
const conflict = () => new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });

const delta: AggregateDelta = {
  id: 'AGG#2025-11-03#zhujian#ZF-01#street-pingshan#web',
  key: { day: '2025-11-03', department: 'zhujian', category: 'ZF-01', street: 'street-pingshan', channel: 'web' },
  counters: { received: 1, dueToSign: 1 },
};

describe('Class: DynamoStore (SLA)', () => {
  beforeEach(() => db.reset());

  it('should write the due-index key of an open case and none for a closed one', async () => {
    // Prepare
    db.on(PutItemCommand).resolves({});
    const open = makeCase();
    // Act
    await store().createCase(open);
    await store().replaceCase({ ...open, state: 'closed', version: 2 }, 1);
    // Assess
    const [first, second] = db.commandCalls(PutItemCommand).map((c) => unmarshall(c.args[0].input.Item ?? {}));
    const key = caseDueKey(open);
    expect(first?.duePk).toBe(key?.pk);
    expect(first?.dueSk).toBe(key?.sk);
    expect(second?.duePk).toBeUndefined();
    expect(second?.dueSk).toBeUndefined();
  });

  it('should query one shard of the due GSI up to the bound and page on', async () => {
    // Prepare
    db.on(QueryCommand).resolves({
      Items: [
        marshall({ pk: 'CASE#C1', sk: 'CASE', duePk: 'DUE#3', dueSk: '2025-11-03T06:05:00.000Z#C1#1', version: 4 }),
      ],
      LastEvaluatedKey: marshall({ pk: 'CASE#C1', sk: 'CASE', duePk: 'DUE#3', dueSk: '2025-11-03T06:05:00.000Z#C1#1' }),
    });
    // Act
    const page = await store().queryDue(3, '2025-11-03T06:05:00.000Z#\uffff', 50, { pk: 'CASE#C0', sk: 'CASE' });
    // Assess
    const input = db.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(input?.IndexName).toBe('due');
    expect(input?.KeyConditionExpression).toBe('duePk = :pk AND dueSk <= :ub');
    expect(unmarshall(input?.ExpressionAttributeValues ?? {})).toEqual({
      ':pk': 'DUE#3',
      ':ub': '2025-11-03T06:05:00.000Z#\uffff',
    });
    expect(input?.Limit).toBe(50);
    expect(unmarshall(input?.ExclusiveStartKey ?? {})).toEqual({ pk: 'CASE#C0', sk: 'CASE' });
    expect(page.entries).toEqual([{ sk: '2025-11-03T06:05:00.000Z#C1#1', caseId: 'C1', version: 4 }]);
    expect(page.cursor).toMatchObject({ pk: 'CASE#C1' });
  });

  it('should ADD a delta to its daily item and record the case version, on the once-only condition', async () => {
    // Prepare
    db.on(UpdateItemCommand).resolves({});
    // Act
    const r = await store().addToAggregates([delta], 'C1@1');
    // Assess
    expect(r).toEqual({ applied: 1, skipped: 0 });
    const input = db.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(unmarshall(input?.Key ?? {})).toEqual({ pk: 'AGGMON#2025-11', sk: `2025-11-03#${delta.id}` });
    expect(input?.UpdateExpression).toBe(
      'SET #k0 = :k0, #k1 = :k1, #k2 = :k2, #k3 = :k3, #k4 = :k4, #s0 = :v0 ADD #c0 :c0, #c1 :c1',
    );
    expect(input?.ConditionExpression).toBe('(attribute_not_exists(#s0) OR #s0 < :v0) AND NOT contains(#applied, :t)');
    const values = unmarshall(input?.ExpressionAttributeValues ?? {});
    expect(values[':c0']).toBe(1);
    expect(values[':v0']).toBe(1);
    expect(values[':t']).toBe('C1@1');
    expect(values[':tok']).toBeUndefined();
    expect(input?.ExpressionAttributeNames).toMatchObject({ '#c1': 'dueToSign', '#s0': '@C1' });
    expect(db.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('should count an item that already holds the token as skipped', async () => {
    // Prepare
    db.on(UpdateItemCommand).rejects(conflict());
    // Act
    const r = await store().addToAggregates([delta, { ...delta, id: `${delta.id}x` }], 'C1@1');
    // Assess
    expect(r).toEqual({ applied: 0, skipped: 2 });
  });

  it('should pass any other error on, and keep the string set for a token without a version', async () => {
    // Prepare
    db.on(UpdateItemCommand).rejectsOnce(new Error('throttled')).resolves({});
    // Act
    const failed = store().addToAggregates([delta], 'C1@2');
    await expect(failed).rejects.toThrow('throttled');
    const r = await store().addToAggregates([delta], 'C1@3-');
    // Assess: a withdrawal's token is not `<caseId>@<digits>`: the former scheme, no case version.
    expect(r).toEqual({ applied: 1, skipped: 0 });
    const input = db.commandCalls(UpdateItemCommand)[1]?.args[0].input;
    expect(input?.UpdateExpression).toBe(
      'SET #k0 = :k0, #k1 = :k1, #k2 = :k2, #k3 = :k3, #k4 = :k4 ADD #c0 :c0, #c1 :c1, #applied :tok',
    );
    expect(input?.ConditionExpression).toBe('NOT contains(#applied, :t)');
    expect(unmarshall(input?.ExpressionAttributeValues ?? {})[':tok']).toEqual(new Set(['C1@3-']));
  });

  it('should read a period with one sort-key range per month, following pages, without the once-only marks', async () => {
    // Prepare: the days 2025-10-30 .. 2025-11-02 span two month partitions; October answers in two pages.
    db.on(QueryCommand).callsFake(
      (input: { ExpressionAttributeValues: Record<string, unknown>; ExclusiveStartKey?: unknown }) => {
        const v = unmarshall(input.ExpressionAttributeValues as never) as Record<string, string>;
        const row = (day: string) =>
          marshall({ ...delta.key, day, received: 2, closed: 1, pk: v[':pk'], sk: `${day}#x` });
        if (v[':pk'] === 'AGGMON#2025-10' && !input.ExclusiveStartKey) {
          return { Items: [row('2025-10-30')], LastEvaluatedKey: marshall({ pk: v[':pk'], sk: '2025-10-30#x' }) };
        }
        if (v[':pk'] === 'AGGMON#2025-10') return { Items: [row('2025-10-31')] };
        return { Items: [row('2025-11-02')] };
      },
    );
    // Act
    const rows = await store().listAggregates('2025-10-30', '2025-11-02');
    // Assess
    const calls = db.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => unmarshall(c?.ExpressionAttributeValues ?? {}))).toEqual([
      { ':pk': 'AGGMON#2025-10', ':from': '2025-10-30#', ':to': '2025-10-31$' },
      { ':pk': 'AGGMON#2025-11', ':from': '2025-11-01#', ':to': '2025-11-02$' },
      { ':pk': 'AGGMON#2025-10', ':from': '2025-10-30#', ':to': '2025-10-31$' },
    ]);
    expect(calls[0]?.KeyConditionExpression).toBe('pk = :pk AND sk BETWEEN :from AND :to');
    expect(calls[0]?.ProjectionExpression).not.toContain('applied');
    expect(calls[0]?.ProjectionExpression).not.toContain('@');
    expect(rows.map((r) => [r.day, r.received, r.closed, r.dueToClose])).toEqual([
      ['2025-10-30', 2, 1, 0],
      ['2025-10-31', 2, 1, 0],
      ['2025-11-02', 2, 1, 0],
    ]);
  });
});
