/**
 * The `reqday` GSI on a real DynamoDB emulator (dynalite, loopback): the table is created from the topology, case
 * items carry the key attributes `requestDayKeys` gives, and the feed reads them back. Replacing a case (a new
 * update time) moves it in the index: `changedSince` must see the new version only.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedSinceKey, collectUpdates, listRequests, requestDayKeys } from '#channels/open311/feed.ts';
import type { Case } from '#core/case.ts';
import { TABLE_INDEXES } from '#core/topology.ts';
import { DynamoCaseFeed } from '#functions/open311/dynamo-feed.ts';
import { type Emulator, startDynalite } from '#local/emulators.ts';

const TABLE = 'cityloop';

function aCase(id: string, receivedAt: string, updatedAt: string, state: Case['state'] = 'dispatched'): Case {
  return {
    caseId: id,
    trackingNo: id,
    state,
    version: 1,
    department: 'chengguan',
    category: 'SZ-01',
    nature: '求助',
    urgency: 'normal',
    channel: 'open311',
    title: '路灯不亮',
    text: '路灯不亮',
    citizen: { email: 'a@example.com' },
    receivedAt,
    updatedAt,
    classification: { confidence: 1, decision: 'auto', reason: 'x' },
    reportCount: 1,
    reporters: [{ trackingNo: id, channel: 'open311', receivedAt, relation: 'new' }],
    announcedVersion: 1,
    history: [
      {
        at: updatedAt,
        actor: { role: 'system', id: 'triage' },
        action: 'dispatch',
        to: state,
        text: `→ ${state}`,
        visibility: 'public',
      },
    ],
  };
}

describe('Integration: the reqday GSI on dynalite', () => {
  let dynamo: Emulator;
  let db: DynamoDBClient;
  let feed: DynamoCaseFeed;

  /** A case item as the store writes it, plus the index attributes. */
  const put = (c: Case) =>
    db.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall({
          pk: `CASE#${c.caseId}`,
          sk: 'CASE',
          version: c.version,
          state: c.state,
          ...requestDayKeys(c),
          doc: JSON.stringify(c),
        }),
      }),
    );

  beforeAll(async () => {
    dynamo = await startDynalite(undefined);
    db = new DynamoDBClient({
      endpoint: dynamo.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const attrs = new Set(['pk', 'sk', ...TABLE_INDEXES.flatMap((i) => [i.pk, i.sk])]);
    await db.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attrs].map((a) => ({ AttributeName: a, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.pk, KeyType: 'HASH' },
            { AttributeName: i.sk, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
    feed = new DynamoCaseFeed(db, TABLE);
    await put(aCase('20251127000001', '2025-11-27T09:00:00.000+08:00', '2025-11-27T09:00:05.000+08:00'));
    await put(aCase('20251128000001', '2025-11-28T08:00:00.000+08:00', '2025-11-28T08:00:05.000+08:00'));
    await put(aCase('20251128000002', '2025-11-28T09:00:00.000+08:00', '2025-11-28T09:00:05.000+08:00'));
    // Items of other kinds never enter the sparse index.
    await db.send(new PutItemCommand({ TableName: TABLE, Item: marshall({ pk: 'SEQ#20251128', sk: 'SEQ', seq: 20 }) }));
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  it("should list a day's cases and page across days", async () => {
    expect((await feed.requestedOn('20251128')).map((c) => c.caseId).sort()).toEqual([
      '20251128000001',
      '20251128000002',
    ]);
    const q = {
      fromMs: Date.parse('2025-11-27T00:00:00+08:00'),
      toMs: Date.parse('2025-11-28T23:59:59+08:00'),
      page: 1,
      pageSize: 2,
    };
    expect((await listRequests(feed, q)).map((c) => c.caseId)).toEqual(['20251128000002', '20251128000001']);
    expect((await listRequests(feed, { ...q, page: 2 })).map((c) => c.caseId)).toEqual(['20251127000001']);
  });

  it('should move a replaced case in the index, so changedSince sees only the new version', async () => {
    // Prepare: the case of the 27th changes on the 28th at 10:00.
    const changed = aCase('20251127000001', '2025-11-27T09:00:00.000+08:00', '2025-11-28T10:00:00.000+08:00', 'closed');
    changed.version = 2;
    await put(changed);
    // Act
    const since = await feed.changedSince('20251127', changedSinceKey(Date.parse('2025-11-28T09:30:00+08:00')));
    const updates = await collectUpdates(
      feed,
      {
        fromMs: Date.parse('2025-11-28T09:30:00+08:00'),
        toMs: Date.parse('2025-11-28T11:00:00+08:00'),
        page: 1,
        pageSize: 100,
      },
      { lookbackDays: 30, scope: 'open311' },
    );
    // Assess
    expect(since.map((c) => [c.caseId, c.version])).toEqual([['20251127000001', 2]]);
    expect(updates.map((u) => [u.service_request_id, u.status])).toEqual([['20251127000001', 'CLOSED']]);
  });
});
