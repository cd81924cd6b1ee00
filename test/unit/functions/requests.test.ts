import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setLogSink } from '#functions/lib/log.ts';
import { resetRuntime, setRuntime } from '#functions/lib/runtime.ts';

const db = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const logs: string[] = [];

const event = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) => ({
  version: '2.0',
  routeKey: 'POST /api/requests',
  rawPath: '/api/requests',
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  isBase64Encoded: false,
  requestContext: { http: { method: 'POST', path: '/api/requests' } },
});

describe('Handler: web requests (POST /api/requests)', () => {
  let handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>;
  beforeAll(async () => {
    process.env.TABLE_NAME = 't';
    process.env.QUEUE_URL_INTAKE = 'https://sqs.local/000/intake';
    process.env.BLOB_BUCKET = 'b';
    setLogSink((l) => logs.push(l));
    ({ handler } = (await import('#functions/http/requests.ts')) as never);
  });
  afterAll(() => resetRuntime());
  beforeEach(() => {
    db.reset();
    sqs.reset();
    logs.length = 0;
    resetRuntime();
    setRuntime({ clock: { now: () => new Date('2025-11-28T02:00:00Z') } });
  });

  it('should store the report, queue it for triage, and answer 202 with the tracking number', async () => {
    // Prepare
    db.on(UpdateItemCommand).resolves({ Attributes: { seq: { N: '20' } } });
    db.on(PutItemCommand).resolves({});
    db.on(GetItemCommand).resolves({});
    db.on(QueryCommand).resolves({ Items: [] });
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });
    // Act
    const res = await handler(event({ title: '路灯不亮', text: '路灯坏了', citizen: { phone: '13800138000' } }), {});
    // Assess
    expect(res.statusCode, logs.join('\n')).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ trackingNo: '20251128000001', status: 'received' });
    expect(db).toHaveReceivedCommandTimes(PutItemCommand, 1);
    const queued = JSON.parse(
      sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageBody ?? '{}',
    );
    expect(queued.report.request).toMatchObject({ channel: 'web', citizen: { phone: '+8613800138000' } });
    // The phone number never reaches the logs in clear.
    expect(logs.join('\n')).not.toContain('13800138000');
  });

  it('should answer 429 CITIZEN_RATE_LIMITED when one contact has already filed 10 reports this hour', async () => {
    // Prepare: ten reports from this phone in the last hour.
    db.on(GetItemCommand).resolves({});
    db.on(QueryCommand).resolves({
      Items: Array.from({ length: 10 }, (_, i) =>
        marshall({
          pk: `RPT#web#k${i}`,
          sk: 'RPT',
          doc: JSON.stringify({ acceptedAt: '2025-11-28T09:30:00.000+08:00' }),
        }),
      ),
    });
    // Act
    const res = await handler(event({ title: '路灯不亮', text: '路灯坏了', citizen: { phone: '13800138000' } }), {});
    // Assess
    expect(res.statusCode).toBe(429);
    expect(JSON.parse(res.body).error.code).toBe('CITIZEN_RATE_LIMITED');
    expect(db).toHaveReceivedCommandTimes(PutItemCommand, 0);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
    // The idempotency key was looked up only because the submission would be refused.
    expect(db).toHaveReceivedCommandTimes(GetItemCommand, 1);
  });

  it('should read only the citizen index under the limit, and never refuse the same submission again', async () => {
    // Prepare: ten reports this hour, one of them this very submission (same Idempotency-Key).
    const tenThisHour = Array.from({ length: 10 }, (_, i) =>
      marshall({
        pk: `RPT#web#k${i}`,
        sk: 'RPT',
        doc: JSON.stringify({ acceptedAt: '2025-11-28T09:30:00.000+08:00' }),
      }),
    );
    const stored = {
      trackingNo: '20251128000007',
      idemKey: 'web#key:same-form-1',
      acceptedAt: '2025-11-28T09:30:00.000+08:00',
      request: { channel: 'web', citizen: { phone: '+8613800138000' }, title: '路灯不亮', text: '路灯坏了' },
    };
    db.on(QueryCommand).resolvesOnce({ Items: [] }).resolves({ Items: tenThisHour });
    db.on(UpdateItemCommand).resolves({ Attributes: { seq: { N: '20' } } });
    db.on(PutItemCommand).resolves({});
    db.on(GetItemCommand).resolves({
      Item: marshall({ pk: 'RPT#web#key:same-form-1', sk: 'RPT', doc: JSON.stringify(stored) }),
    });
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [] });
    const body = { title: '路灯不亮', text: '路灯坏了', citizen: { phone: '13800138000' } };
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'same-form-1' };
    // Act: under the limit (no idempotency read), then the same form again at the limit.
    const first = await handler(event(body, headers), {});
    const readsAfterFirst = db.commandCalls(GetItemCommand).length;
    const again = await handler(event(body, headers), {});
    // Assess
    expect(first.statusCode).toBe(202);
    expect(readsAfterFirst).toBe(0);
    expect(again.statusCode, again.body).toBe(202);
  });

  it('should answer 400 with a reason code and write nothing for an invalid request', async () => {
    const res = await handler(event({ title: '' }), {});
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('VALIDATION_FAILED');
    expect(db).toHaveReceivedCommandTimes(PutItemCommand, 0);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('should answer 500 without internals when the store is down, and queue nothing', async () => {
    db.on(UpdateItemCommand).rejects(new Error('connect ECONNREFUSED 10.0.0.1'));
    const res = await handler(event({ title: 'x', text: 'y', citizen: { anonymous: true } }), {});
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('ECONNREFUSED');
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });
});
