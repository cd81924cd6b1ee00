import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { callTtlDaysFromEnv, DynamoCallStore } from '#adapters/dynamo/calls.ts';
import { type CallRecord, mergeCall } from '#channels/hotline/call-record.ts';

const db = mockClient(DynamoDBClient);
const NOW = new Date('2025-11-28T02:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const record = (version: number): CallRecord => ({
  ...mergeCall(
    undefined,
    {
      contactId: 'c-1',
      channel: 'VOICE',
      callerStatus: 'present',
      callerPhone: '+8613800138000',
      attributes: {},
      parameters: {},
      dropped: 0,
    },
    '2025-11-28T10:00:00.000+08:00',
  ),
  version,
});
const item = (r: CallRecord, expiresAt = NOW_S + 86_400) =>
  marshall({ pk: 'CALL#c-1', sk: 'CALL', version: r.version, expiresAt, doc: JSON.stringify(r) });
const conflict = () => new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });

describe('Class: DynamoCallStore', () => {
  const store = () => new DynamoCallStore(new DynamoDBClient({}), 't', { ttlDays: 30, now: () => NOW });
  beforeEach(() => db.reset());

  it('should create a call record with one put-if-absent, keyed CALL#<contactId>, with a TTL', async () => {
    // Prepare
    db.on(GetItemCommand).resolves({});
    db.on(PutItemCommand).resolves({});
    // Act
    const out = await store().update('c-1', (e) => e ?? record(0));
    // Assess
    expect(out?.version).toBe(1);
    const input = db.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.Item?.pk).toEqual({ S: 'CALL#c-1' });
    expect(input?.Item?.sk).toEqual({ S: 'CALL' });
    expect(input?.Item?.expiresAt).toEqual({ N: String(NOW_S + 30 * 86_400) });
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk) OR expiresAt <= :now');
  });

  it('should update on the version it read, and re-read and re-apply after a lost race', async () => {
    // Prepare: someone else writes version 3 between our read of 2 and our put.
    db.on(GetItemCommand)
      .resolvesOnce({ Item: item(record(2)) })
      .resolves({ Item: item(record(3)) });
    db.on(PutItemCommand).rejectsOnce(conflict()).resolves({});
    // Act
    const out = await store().update('c-1', (e) => (e ? { ...e, invocations: e.invocations + 1 } : undefined));
    // Assess
    const puts = db.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.ExpressionAttributeValues?.[':expected'])).toEqual([{ N: '2' }, { N: '3' }]);
    expect(out?.version).toBe(4);
  });

  it('should write nothing when the change has nothing to write', async () => {
    // Prepare
    db.on(GetItemCommand).resolves({});
    // Act
    const out = await store().update('c-1', () => undefined);
    // Assess
    expect(out).toBeUndefined();
    expect(db.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it('should not return a record past its TTL that DynamoDB has not deleted yet', async () => {
    // Prepare
    db.on(GetItemCommand).resolves({ Item: item(record(1), NOW_S - 1) });
    // Act / Assess
    expect(await store().get('c-1')).toBeUndefined();
  });

  it('should give up after a bounded number of lost races', async () => {
    // Prepare
    db.on(GetItemCommand).resolves({ Item: item(record(1)) });
    db.on(PutItemCommand).rejects(conflict());
    // Act / Assess
    await expect(store().update('c-1', (e) => e)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(db.commandCalls(PutItemCommand)).toHaveLength(5);
  });

  it('should read the TTL from env within bounds', () => {
    expect(callTtlDaysFromEnv({ CALL_RECORD_TTL_DAYS: '7' })).toBe(7);
    expect(callTtlDaysFromEnv({ CALL_RECORD_TTL_DAYS: '0' })).toBe(90);
    expect(callTtlDaysFromEnv({})).toBe(90);
  });
});
