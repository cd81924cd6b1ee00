/**
 * The sparse `pending` index of the DynamoDB store: which case items carry its keys (an open case of a department with
 * a request waiting for a supervisor), and how `listPendingRequests` reads and pages it.
 */
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
import type { PendingRequest } from '#core/lifecycle/types.ts';
import { triagedCase } from '../cases/fakes.ts';

const db = mockClient(DynamoDBClient);
const REQUESTED_AT = '2025-11-29T10:00:00.000+08:00';
const extension: PendingRequest = {
  kind: 'extension',
  reason: '等待物资',
  requestedAt: REQUESTED_AT,
  requestedBy: { role: 'department', id: 'cg-clerk' },
  newDueAt: '2025-12-30T18:00:00.000+08:00',
};
const returnRequest: PendingRequest = {
  kind: 'return',
  reason: '不属于本单位职责',
  requestedAt: REQUESTED_AT,
  requestedBy: { role: 'department', id: 'cg-clerk' },
  from: 'dispatched',
};

const inHand = (tn: string, pending: PendingRequest | null, extra: Partial<Case> = {}): Case => ({
  ...triagedCase(tn),
  state: 'signed',
  pending,
  ...extra,
});

/** The item the store last put, as plain attributes. */
function lastPut(): Record<string, unknown> {
  const item = db.commandCalls(PutItemCommand).at(-1)?.args[0].input.Item;
  if (!item) throw new Error('no PutItem');
  return unmarshall(item);
}

const itemOf = (c: Case, sk: string) =>
  marshall({ pk: `CASE#${c.caseId}`, sk: 'CASE', pendPk: 'PEND#chengguan', pendSk: sk, doc: JSON.stringify(c) });

describe('Class: DynamoStore (pending index)', () => {
  beforeEach(() => {
    db.reset();
    db.on(PutItemCommand).resolves({});
  });

  it('should give a case with a pending extension the keys of its department’s pending index', async () => {
    // Prepare
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    const c = inHand('20251128000001', extension);
    // Act
    await store.createCase(c);
    // Assess
    expect(lastPut()).toMatchObject({ pendPk: 'PEND#chengguan', pendSk: `${REQUESTED_AT}#20251128000001` });
  });

  it('should give a 退单申请 the keys too', async () => {
    // Prepare
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    const c = inHand('20251128000002', returnRequest, { state: 'returnRequested' });
    // Act
    await store.replaceCase(c, 1);
    // Assess
    expect(lastPut()).toMatchObject({ pendPk: 'PEND#chengguan', pendSk: `${REQUESTED_AT}#20251128000002` });
  });

  it('should drop the keys once the request is decided, and give none without a department or once ended', async () => {
    // Prepare
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    const { department: _, ...noDepartment } = inHand('20251128000004', extension);
    // Act + Assess: approved or rejected (pending back to null), no department, an ended state
    for (const c of [
      inHand('20251128000003', null),
      noDepartment as Case,
      inHand('20251128000005', extension, { state: 'closed' }),
      inHand('20251128000006', extension, { state: 'archived' }),
    ]) {
      await store.replaceCase(c, 1);
      const item = lastPut();
      expect(item.pk).toBe(`CASE#${c.caseId}`);
      expect(item).not.toHaveProperty('pendPk');
      expect(item).not.toHaveProperty('pendSk');
    }
  });

  it('should read one department’s pending index, one more than asked, and page on with a cursor', async () => {
    // Prepare: 3 entries for a page of 2
    const cases = ['20251128000011', '20251128000012', '20251128000013'].map((tn) => inHand(tn, extension));
    const keys = cases.map((c, i) => `2025-11-29T1${i}:00:00.000+08:00#${c.caseId}`);
    db.on(QueryCommand)
      .resolvesOnce({ Items: cases.map((c, i) => itemOf(c, keys[i]!)) })
      .resolvesOnce({ Items: [itemOf(cases[2]!, keys[2]!)] });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const first = await store.listPendingRequests('chengguan', 2);
    const next = await store.listPendingRequests('chengguan', 2, first.cursor);
    // Assess
    const [q1, q2] = db.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(q1).toMatchObject({
      TableName: 't',
      IndexName: 'pending',
      KeyConditionExpression: 'pendPk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'PEND#chengguan' } },
      Limit: 3,
    });
    expect(q1?.ExclusiveStartKey).toBeUndefined();
    expect(first.cases.map((c) => c.caseId)).toEqual(['20251128000011', '20251128000012']);
    expect(first.cases[0]?.pending).toEqual(extension);
    expect(first.cursor).toBe(Buffer.from(keys[1]!, 'utf8').toString('base64url'));
    expect(unmarshall(q2?.ExclusiveStartKey ?? {})).toEqual({
      pendPk: 'PEND#chengguan',
      pendSk: keys[1],
      pk: 'CASE#20251128000012',
      sk: 'CASE',
    });
    expect(next.cases.map((c) => c.caseId)).toEqual(['20251128000013']);
    expect(next.cursor).toBeUndefined();
  });

  it('should go on after a read cut by the 1 MB page limit', async () => {
    // Prepare: fewer items than asked, with a LastEvaluatedKey
    const c = inHand('20251128000021', extension);
    const sk = `${REQUESTED_AT}#${c.caseId}`;
    db.on(QueryCommand).resolves({
      Items: [itemOf(c, sk)],
      LastEvaluatedKey: marshall({ pendPk: 'PEND#chengguan', pendSk: sk, pk: `CASE#${c.caseId}`, sk: 'CASE' }),
    });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    // Act
    const page = await store.listPendingRequests('chengguan', 100);
    // Assess
    expect(page.cases).toHaveLength(1);
    expect(page.cursor).toBe(Buffer.from(sk, 'utf8').toString('base64url'));
  });

  it('should refuse a cursor that is not one of the pending index’s sort keys (400 BAD_CURSOR)', async () => {
    // Prepare
    db.on(QueryCommand).resolves({ Items: [] });
    const store = new DynamoStore(new DynamoDBClient({}), 't');
    const forged = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    // Act
    const attempts = [forged('signed#2025-12-01#20251128000001'), forged('no-separator'), '%%%'].map((cursor) =>
      store.listPendingRequests('chengguan', 10, cursor).then(
        () => 'ok',
        (e: { code?: string; status?: number }) => `${e.status} ${e.code}`,
      ),
    );
    // Assess
    expect(await Promise.all(attempts)).toEqual(['400 BAD_CURSOR', '400 BAD_CURSOR', '400 BAD_CURSOR']);
    expect(db.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
