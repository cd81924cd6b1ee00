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

  it('should return the existing report when the same submission comes again', async () => {
    // Prepare
    const first = { ...report, trackingNo: '20251128000000' };
    db.on(PutItemCommand).rejects(conflict());
    db.on(GetItemCommand).resolves({
      Item: marshall({ pk: 'RPT#web#key:abc', sk: 'RPT', doc: JSON.stringify(first) }),
    });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const out = await store.putReportIfAbsent(report);
    // Assess
    expect(out).toEqual({ created: false, report: first });
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
});
