import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoCaseFeed } from '#functions/open311/dynamo-feed.ts';

const db = mockClient(DynamoDBClient);
const item = (caseId: string) =>
  marshall({ pk: `CASE#${caseId}`, sk: 'CASE', announcedVersion: 2, doc: JSON.stringify({ caseId, version: 2 }) });

describe('Class: DynamoCaseFeed', () => {
  beforeEach(() => db.reset());

  it('should query one request day on the reqday index, following LastEvaluatedKey', async () => {
    // Prepare: two pages, one with an unreadable item.
    db.on(QueryCommand)
      .resolvesOnce({
        Items: [item('a'), { ...item('x'), doc: { S: '{' } }],
        LastEvaluatedKey: { pk: { S: 'CASE#a' } },
      })
      .resolvesOnce({ Items: [item('b')] });
    const feed = new DynamoCaseFeed(new DynamoDBClient({}), 'cityloop');
    // Act
    const cases = await feed.requestedOn('20251128');
    // Assess
    expect(cases.map((c) => [c.caseId, c.announcedVersion])).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    expect(db).toHaveReceivedCommandTimes(QueryCommand, 2);
    const inputs = db.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: 'cityloop',
      IndexName: 'reqday',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'reqDayPk' },
      ExpressionAttributeValues: { ':pk': { S: 'REQDAY#20251128' } },
    });
    expect(inputs[1]).toMatchObject({ IndexName: 'reqday', ExclusiveStartKey: { pk: { S: 'CASE#a' } } });
  });

  it('should read only cases changed since a bound, with a range condition on the sort key', async () => {
    db.on(QueryCommand).resolves({ Items: [item('c')] });
    const feed = new DynamoCaseFeed(new DynamoDBClient({}), 'cityloop');
    await feed.changedSince('20251127', '2025-11-28T10:00:00.000+08:00');
    expect(db).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: '#pk = :pk AND #sk >= :since',
      ExpressionAttributeNames: { '#pk': 'reqDayPk', '#sk': 'reqDaySk' },
      ExpressionAttributeValues: { ':pk': { S: 'REQDAY#20251127' }, ':since': { S: '2025-11-28T10:00:00.000+08:00' } },
    });
  });

  it('should batch-read the documents of a KEYS_ONLY page in index order, retrying unprocessed keys', async () => {
    // Prepare: the index gives keys only (AWS); the first BatchGetItem leaves one key unprocessed.
    const keys = (id: string) =>
      marshall({ pk: `CASE#${id}`, sk: 'CASE', reqDayPk: 'REQDAY#20251128', reqDaySk: `2025-11-28T10:00#${id}` });
    db.on(QueryCommand).resolves({ Items: [keys('a'), keys('gone'), keys('b')] });
    db.on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { cityloop: [item('b')] },
        UnprocessedKeys: { cityloop: { Keys: [marshall({ pk: 'CASE#a', sk: 'CASE' })] } },
      })
      .resolvesOnce({ Responses: { cityloop: [item('a')] } });
    const feed = new DynamoCaseFeed(new DynamoDBClient({}), 'cityloop');
    // Act
    const cases = await feed.requestedOn('20251128');
    // Assess: index order; a case deleted meanwhile is left out.
    expect(cases.map((c) => c.caseId)).toEqual(['a', 'b']);
    const calls = db.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems?.cityloop);
    expect(calls[0]?.Keys).toHaveLength(3);
    expect(calls[0]?.ProjectionExpression).toBe('pk, sk, #doc, announcedVersion');
    expect(calls[1]?.Keys).toEqual([marshall({ pk: 'CASE#a', sk: 'CASE' })]);
  });

  it('should not read the table again when the index projects the document (local emulators)', async () => {
    db.on(QueryCommand).resolves({ Items: [item('a')] });
    const cases = await new DynamoCaseFeed(new DynamoDBClient({}), 'cityloop').requestedOn('20251128');
    expect(cases.map((c) => c.caseId)).toEqual(['a']);
    expect(db).toHaveReceivedCommandTimes(BatchGetItemCommand, 0);
  });
});
