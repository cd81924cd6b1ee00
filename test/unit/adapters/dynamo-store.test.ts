import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { StoredReport } from '#core/ports.ts';

const db = mockClient(DynamoDBClient);
const report: StoredReport = {
  trackingNo: '20251128000001' as StoredReport['trackingNo'],
  idemKey: 'web#key:abc',
  acceptedAt: '2025-11-28T09:30:00.000+08:00',
  request: {
    channel: 'web',
    channelMessageId: 'key:abc',
    receivedAt: '2025-11-28T09:30:00+08:00',
    citizen: { phone: '+8613800138000' },
    title: '路灯不亮',
    text: '路灯坏了',
  },
};
const conflict = () => new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });

describe('Class: DynamoStore', () => {
  beforeEach(() => db.reset());

  it('should store a new report with one conditional put keyed by channel + message id', async () => {
    // Prepare
    db.on(PutItemCommand).resolves({});
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const out = await store.putReportIfAbsent(report);
    // Assess
    expect(out.created).toBe(true);
    const input = db.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.Item?.pk).toEqual({ S: 'RPT#web#key:abc' });
    expect(input?.Item?.gsi1pk).toEqual({ S: 'TN#20251128000001' });
    // The citizen lookup key is a digest, not the phone number.
    expect(JSON.stringify(input?.Item?.gsi2pk)).not.toContain('13800138000');
  });

  it('should return the existing report when the same submission comes again (read once where not returned)', async () => {
    // Prepare: the service does not return the old item (dynalite); the report's case is not written yet.
    const first = { ...report, trackingNo: '20251128000000' };
    db.on(PutItemCommand).rejects(conflict());
    db.on(GetItemCommand, { Key: { pk: { S: 'RPT#web#key:abc' }, sk: { S: 'RPT' } } }).resolves({
      Item: marshall({ pk: 'RPT#web#key:abc', sk: 'RPT', doc: JSON.stringify(first) }),
    });
    db.on(GetItemCommand, { Key: { pk: { S: 'CASE#20251128000000' }, sk: { S: 'CASE' } } }).resolves({});
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const out = await store.putReportIfAbsent(report);
    // Assess
    expect(out).toEqual({ created: false, report: first });
    expect(db.commandCalls(PutItemCommand)[0]?.args[0].input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('should take the stored report from the failed write, and name its own case once that case exists', async () => {
    // Prepare: the failed condition returns the stored report; its case (named after it) was opened by triage.
    const first = { ...report, trackingNo: '20251128000000' };
    db.on(PutItemCommand).rejects(
      Object.assign(conflict(), {
        Item: marshall({ pk: 'RPT#web#key:abc', sk: 'RPT', doc: JSON.stringify(first) }),
      }),
    );
    db.on(GetItemCommand).resolves({ Item: marshall({ pk: 'CASE#20251128000000' }) });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const out = await store.putReportIfAbsent(report);
    // Assess: no read of the report; one projected read of its case.
    expect(out).toEqual({ created: false, report: { ...first, caseId: '20251128000000' } });
    const gets = db.commandCalls(GetItemCommand).map((c) => c.args[0].input);
    expect(gets).toHaveLength(1);
    expect(gets[0]).toMatchObject({ Key: { pk: { S: 'CASE#20251128000000' } }, ProjectionExpression: 'pk' });
  });

  it('should reserve tracking-number blocks with one atomic ADD', async () => {
    db.on(UpdateItemCommand).resolves({ Attributes: { seq: { N: '40' } } });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    await expect(store.reserveSequence('20251128', 20)).resolves.toBe(21);
    expect(db.commandCalls(UpdateItemCommand)[0]?.args[0].input.UpdateExpression).toBe('ADD seq :n');
  });

  it('should refuse a stale version when replacing a case (optimistic concurrency)', async () => {
    db.on(PutItemCommand).rejects(conflict());
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    const ok = await store.replaceCase({ caseId: 'c', version: 3, state: 'signed', history: [] } as never, 2);
    expect(ok).toBe(false);
    expect(db.commandCalls(PutItemCommand)[0]?.args[0].input.ConditionExpression).toBe('#v = :expected');
  });

  it('should never move the announcement mark backwards', async () => {
    db.on(UpdateItemCommand).rejects(conflict());
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    await expect(store.markAnnounced('c', 2)).resolves.toBeUndefined();
    expect(db.commandCalls(UpdateItemCommand)[0]?.args[0].input.ConditionExpression).toContain('announcedVersion < :v');
  });

  it('should add the new cases of a batch with one update per aggregate item, all their tokens at once', async () => {
    // Prepare: two cases on one item (day, department …), a third on another.
    db.on(UpdateItemCommand).resolves({});
    const key = (department: string) => ({
      day: '2025-11-28',
      department,
      category: '-',
      street: '-',
      channel: 'web',
    });
    const delta = (department: string) => ({
      id: `agg-${department}`,
      key: key(department),
      counters: { received: 1 },
    });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [delta('d1')], token: 'C1@1' },
      { deltas: [delta('d1')], token: 'C2@1' },
      { deltas: [delta('d2')], token: 'C3@1' },
    ] as never);
    // Assess
    expect(r).toEqual({ applied: 3, skipped: 0 });
    const inputs = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    const d1 = inputs.find((i) => i.Key?.sk?.S === '2025-11-28#agg-d1')!;
    expect(d1.ConditionExpression).toBe('NOT contains(#applied, :t0) AND NOT contains(#applied, :t1)');
    expect(d1.ExpressionAttributeValues?.[':c0']).toEqual({ N: '2' });
    expect(d1.ExpressionAttributeValues?.[':tok']).toEqual({ SS: ['C1@1', 'C2@1'] });
  });

  it('should fall back to one update per transition on an item where one of them counted before', async () => {
    // Prepare: the combined update fails (C1 was counted by an earlier try); then C1 is skipped and C2 applied.
    db.on(UpdateItemCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({});
    const delta = {
      id: 'agg',
      key: { day: '2025-11-28', department: 'd', category: '-', street: '-', channel: 'web' },
      counters: { received: 1 },
    };
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [delta], token: 'C1@1' },
      { deltas: [delta], token: 'C2@1' },
    ] as never);
    // Assess
    expect(r).toEqual({ applied: 1, skipped: 1 });
    const conditions = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.ConditionExpression);
    expect(conditions).toEqual([
      'NOT contains(#applied, :t0) AND NOT contains(#applied, :t1)',
      'NOT contains(#applied, :t)',
      'NOT contains(#applied, :t)',
    ]);
  });
});
