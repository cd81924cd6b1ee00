import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsCallCounter, tally } from '../../../bench/aws-counter.ts';

const ddb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const eb = mockClient(EventBridgeClient);

const TABLE = {
  Table: {
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
      },
    ],
  },
};

const doc = (bytes: number) => ({ S: 'x'.repeat(bytes) });

describe('Class: AwsCallCounter', () => {
  let counter: AwsCallCounter;

  beforeEach(() => {
    ddb.reset();
    sqs.reset();
    eb.reset();
    ddb.on(DescribeTableCommand).resolves(TABLE as never);
    counter = new AwsCallCounter().install();
  });
  afterEach(() => counter.uninstall());
  afterAll(() => {
    ddb.restore();
    sqs.restore();
    eb.restore();
  });

  it('should count a put with its table and index write units, sized from the item before and after', async () => {
    // Prepare: a new item of ~2.5 KB that enters gsi1
    const item = {
      pk: { S: 'RPT#web#1' },
      sk: { S: 'RPT' },
      gsi1pk: { S: 'TN#1' },
      gsi1sk: { S: 'RPT' },
      doc: doc(2500),
    };
    ddb.on(GetItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    const client = new DynamoDBClient({ region: 'us-east-1' });
    // Act
    await client.send(new PutItemCommand({ TableName: 't', Item: item }));
    // Assess: only the PutItem is counted (DescribeTable and the read aside are not)
    expect(counter.calls).toHaveLength(1);
    expect(counter.calls[0]).toMatchObject({ service: 'dynamodb', op: 'PutItem', item: 'RPT', ok: true, wru: 3 });
    expect(counter.calls[0]?.indexWru).toEqual({ gsi1: 3 });
  });

  it('should charge a failed condition the existing item and rethrow the error', async () => {
    // Prepare: the item exists (1.5 KB) and the condition fails
    ddb.on(GetItemCommand).resolves({ Item: { pk: { S: 'CASE#1' }, sk: { S: 'CASE' }, doc: doc(1500) } });
    ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    const client = new DynamoDBClient({ region: 'us-east-1' });
    // Act
    const put = client.send(
      new PutItemCommand({
        TableName: 't',
        Item: { pk: { S: 'CASE#1' }, sk: { S: 'CASE' } },
        ConditionExpression: 'x',
      }),
    );
    // Assess
    await expect(put).rejects.toThrow('failed');
    expect(counter.calls[0]).toMatchObject({ ok: false, error: 'ConditionalCheckFailedException', wru: 2 });
  });

  it('should count read units of reads and queries', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({ Item: { pk: { S: 'CASE#1' }, doc: doc(5000) } });
    ddb.on(QueryCommand).resolves({
      Items: [
        { pk: { S: 'a' }, doc: doc(3000) },
        { pk: { S: 'b' }, doc: doc(3000) },
      ],
    });
    const client = new DynamoDBClient({ region: 'us-east-1' });
    // Act
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'CASE#1' } }, ConsistentRead: true }));
    await client.send(new QueryCommand({ TableName: 't', IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p' }));
    // Assess: 5 KB consistent = 2 RRU; 6 KB from an index (eventually consistent) = 2 × ½
    expect(counter.calls.map((c) => c.rru)).toEqual([2, 1]);
    expect(counter.calls[1]?.index).toBe('gsi1');
  });

  it('should count SQS batch entries, received messages and 64 KB billing chunks', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [{ Body: 'a' }, { Body: 'b' }] });
    const client = new SQSClient({ region: 'us-east-1' });
    // Act
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: 'http://127.0.0.1/000/cityloop-intake',
        Entries: [
          { Id: '1', MessageBody: 'x'.repeat(40_000) },
          { Id: '2', MessageBody: 'y'.repeat(40_000) },
        ],
      }),
    );
    await client.send(new ReceiveMessageCommand({ QueueUrl: 'http://127.0.0.1/000/cityloop-intake' }));
    // Assess
    expect(counter.calls[0]).toMatchObject({
      op: 'SendMessageBatch',
      target: 'cityloop-intake',
      entries: 2,
      billed: 2,
    });
    expect(counter.calls[1]).toMatchObject({ op: 'ReceiveMessage', entries: 2, billed: 1 });
  });

  it('should bill PutEvents per successful entry', async () => {
    // Prepare: entry 2 of 3 fails
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'X' }, {}] });
    const client = new EventBridgeClient({ region: 'us-east-1' });
    const entry = { EventBusName: 'bus', Source: 's', DetailType: 't', Detail: '{}' };
    // Act
    await client.send(new PutEventsCommand({ Entries: [entry, entry, entry] }));
    // Assess
    expect(counter.calls[0]).toMatchObject({
      service: 'eventbridge',
      op: 'PutEvents',
      target: 'bus',
      entries: 3,
      billed: 2,
    });
  });

  it('should label calls with their scope and count sequential rounds', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({});
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const get = () => client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } }));
    // Act: two calls in parallel (one round), then one more (a second round)
    const { rounds } = await counter.run('triage', async () => {
      await Promise.all([get(), get()]);
      await get();
    });
    await get();
    // Assess
    expect(rounds).toBe(2);
    expect(counter.calls.map((c) => c.scope)).toEqual(['triage', 'triage', 'triage', 'other']);
    expect(tally(counter.calls, (c) => c.scope)).toMatchObject([
      { key: 'triage', calls: 3 },
      { key: 'other', calls: 1 },
    ]);
  });

  it('should restore the clients when uninstalled', async () => {
    // Prepare
    ddb.on(GetItemCommand).resolves({});
    const client = new DynamoDBClient({ region: 'us-east-1' });
    // Act
    counter.uninstall();
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } }));
    // Assess
    expect(counter.calls).toHaveLength(0);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
  });
});
