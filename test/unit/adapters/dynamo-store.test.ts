import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { StoredReport } from '#core/ports.ts';
import type { AggregateDelta } from '#core/sla/metrics.ts';

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
/** One `received` on the daily item of a department (2025-11-28, web). */
const aggDelta = (department: string): AggregateDelta => ({
  id: `agg-${department}`,
  key: { day: '2025-11-28', department, category: '-', street: '-', channel: 'web' },
  counters: { received: 1 },
});

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

  it('should add the new cases of a batch with one update per aggregate item, a condition per case', async () => {
    // Prepare: two cases on one item (day, department …), a third on another.
    db.on(UpdateItemCommand).resolves({});
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [aggDelta('d1')], token: 'C1@1' },
      { deltas: [aggDelta('d1')], token: 'C2@1' },
      { deltas: [aggDelta('d2')], token: 'C3@1' },
    ]);
    // Assess
    expect(r).toEqual({ applied: 3, skipped: 0 });
    const inputs = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    const d1 = inputs.find((i) => i.Key?.sk?.S === '2025-11-28#agg-d1')!;
    expect(d1.ConditionExpression).toBe(
      '(attribute_not_exists(#s0) OR #s0 < :v0) AND (attribute_not_exists(#s1) OR #s1 < :v1)' +
        ' AND NOT contains(#applied, :t0) AND NOT contains(#applied, :t1)',
    );
    expect(d1.UpdateExpression).toContain('#s0 = :v0, #s1 = :v1 ADD #c0 :c0');
    expect(d1.UpdateExpression).not.toContain(':tok');
    expect(d1.ExpressionAttributeNames).toMatchObject({ '#s0': '@C1', '#s1': '@C2' });
    expect(d1.ExpressionAttributeValues?.[':c0']).toEqual({ N: '2' });
  });

  it('should condition one case on its lowest version on the item and record its highest', async () => {
    // Prepare: case C1 owes three steps that all fall on one item.
    db.on(UpdateItemCommand).resolves({});
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [aggDelta('d')], token: 'C1@3' },
      { deltas: [aggDelta('d')], token: 'C1@4' },
      { deltas: [aggDelta('d')], token: 'C1@6' },
    ]);
    // Assess
    expect(r).toEqual({ applied: 3, skipped: 0 });
    const [input] = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(input?.ConditionExpression).toMatch(/^\(attribute_not_exists\(#s0\) OR #s0 < :v0\) AND/);
    expect(input?.UpdateExpression).toContain('#s0 = :w0 ADD');
    expect(unmarshall(input?.ExpressionAttributeValues ?? {})).toMatchObject({ ':v0': 3, ':w0': 6, ':c0': 3 });
  });

  it('should fall back to one update per transition on an item where one of them counted before', async () => {
    // Prepare: the combined update fails (C1 was counted by an earlier try); then C1 is skipped and C2 applied.
    db.on(UpdateItemCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({});
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [aggDelta('d')], token: 'C1@1' },
      { deltas: [aggDelta('d')], token: 'C2@1' },
    ]);
    // Assess
    expect(r).toEqual({ applied: 1, skipped: 1 });
    const inputs = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.ConditionExpression)).toEqual([
      '(attribute_not_exists(#s0) OR #s0 < :v0) AND (attribute_not_exists(#s1) OR #s1 < :v1)' +
        ' AND NOT contains(#applied, :t0) AND NOT contains(#applied, :t1)',
      '(attribute_not_exists(#s0) OR #s0 < :v0) AND NOT contains(#applied, :t)',
      '(attribute_not_exists(#s0) OR #s0 < :v0) AND NOT contains(#applied, :t)',
    ]);
    expect(inputs.slice(1).map((i) => i.ExpressionAttributeNames?.['#s0'])).toEqual(['@C1', '@C2']);
  });

  it('should fall back in version order per case, however the transitions were listed', async () => {
    // Prepare: the group fails; C1's steps were handed over out of order (6 before 4).
    db.on(UpdateItemCommand).rejectsOnce(conflict()).resolves({});
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [aggDelta('d')], token: 'C1@6' },
      { deltas: [aggDelta('d')], token: 'C1@4' },
      { deltas: [aggDelta('d')], token: 'C1@5' },
    ]);
    // Assess: 4, 5, 6, one by one, each waiting for the one before.
    expect(r).toEqual({ applied: 3, skipped: 0 });
    const tokens = db
      .commandCalls(UpdateItemCommand)
      .slice(1)
      .map((c) => unmarshall(c.args[0].input.ExpressionAttributeValues ?? {})[':t']);
    expect(tokens).toEqual(['C1@4', 'C1@5', 'C1@6']);
  });

  it('should never sum the same transition twice on one item (a case listed twice)', async () => {
    // Prepare: the first applies, the second finds its version seen.
    db.on(UpdateItemCommand).resolvesOnce({}).rejects(conflict());
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const r = await store.addTransitionsToAggregates([
      { deltas: [aggDelta('d')], token: 'C1@2' },
      { deltas: [aggDelta('d')], token: 'C1@2' },
    ]);
    // Assess: no combined update, straight to one by one.
    expect(r).toEqual({ applied: 1, skipped: 1 });
    const inputs = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs.map((i) => i.ExpressionAttributeValues?.[':c0'])).toEqual([{ N: '1' }, { N: '1' }]);
  });
});
