import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dueArg } from '../../../cli/commands/dept.ts';
import { DepartmentApiError, DepartmentClient, parseCaseEvent } from '../../../clients/department.ts';

const sqs = mockClient(SQSClient);

const envelope = (detailType: string, version: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    'detail-type': detailType,
    source: 'cityloop.cases',
    detail: {
      eventId: `20251128000001:${version}:${detailType}`,
      caseId: '20251128000001',
      trackingNo: '20251128000001',
      version,
      state: 'dispatched',
      department: 'chengguan',
      title: '路灯不亮',
      ...extra,
    },
  });

function recordingFetch(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  return { calls, fetcher };
}

describe('Class: DepartmentClient', () => {
  beforeEach(() => sqs.reset());

  it('should ask for the next page of one state with its cursor, and hand back `more`', async () => {
    // Prepare
    const body = { department: 'chengguan', cases: [], more: { dispatched: 'ZGlzcGF0Y2hlZCM' } };
    const { calls, fetcher } = recordingFetch(200, body);
    const client = new DepartmentClient({ apiUrl: 'http://127.0.0.1:1', apiKey: 'k', fetch: fetcher });
    // Act
    const r = await client.list({ state: 'dispatched', limit: 200, cursor: 'ZGlzcGF0Y2hlZCMy' });
    // Assess
    expect(calls[0]?.url).toBe('http://127.0.0.1:1/api/dept/cases?state=dispatched&limit=200&cursor=ZGlzcGF0Y2hlZCMy');
    expect(r.more).toEqual({ dispatched: 'ZGlzcGF0Y2hlZCM' });
  });

  it('should call the department API with the key and the action’s body', async () => {
    // Prepare
    const { calls, fetcher } = recordingFetch(200, { case: { state: 'signed' }, transition: {}, announced: true });
    const client = new DepartmentClient({ apiUrl: 'http://127.0.0.1:1/', apiKey: 'k', fetch: fetcher });
    // Act
    const r = await client.requestExtension('20251128000001', {
      reason: '等待物资',
      newDueAt: '2025-12-10T23:59:59.999+08:00',
      expectedVersion: 4,
    });
    // Assess
    expect(r.case.state).toBe('signed');
    expect(calls[0]?.url).toBe('http://127.0.0.1:1/api/dept/cases/20251128000001/extension');
    expect(calls[0]?.init).toMatchObject({
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
    });
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      reason: '等待物资',
      newDueAt: '2025-12-10T23:59:59.999+08:00',
      expectedVersion: 4,
    });
  });

  it('should throw the API’s machine code, and send a JWT as a bearer token', async () => {
    // Prepare
    const { calls, fetcher } = recordingFetch(409, {
      error: { code: 'CONFLICT', message: 'changed', details: { version: 5 } },
    });
    const client = new DepartmentClient({ apiUrl: 'http://x', token: async () => 'a.b.c', fetch: fetcher });
    // Act
    const err = await client.sign('1').catch((e) => e);
    // Assess
    expect(err).toBeInstanceOf(DepartmentApiError);
    expect(err).toMatchObject({ status: 409, code: 'CONFLICT', details: { version: 5 } });
    expect(calls[0]?.init.headers).toMatchObject({ authorization: 'Bearer a.b.c' });
  });

  it('should hand each event to the handler once and delete it only after the handler succeeded', async () => {
    // Prepare: the same event twice (at-least-once), and a message that is not a case event.
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: '1', ReceiptHandle: 'r1', Body: envelope('Case.Dispatched', 1) },
          { MessageId: '2', ReceiptHandle: 'r2', Body: envelope('Case.Dispatched', 1) },
          { MessageId: '3', ReceiptHandle: 'r3', Body: 'not json' },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const client = new DepartmentClient({ apiUrl: 'http://x', queueUrl: 'https://sqs/q', sqs: new SQSClient({}) });
    const seen: string[] = [];
    // Act
    const n = await client.consume(async (e) => {
      seen.push(e.eventId);
    });
    // Assess
    expect(n).toBe(1);
    expect(seen).toEqual(['20251128000001:1:Case.Dispatched']);
    const deleted = sqs.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries?.[0]?.ReceiptHandle);
    expect(deleted).toEqual(['r1', 'r2']);
  });

  it('should leave a message in the queue when the handler fails', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolves({ Messages: [{ MessageId: '1', ReceiptHandle: 'r1', Body: envelope('Case.Dispatched', 1) }] });
    const client = new DepartmentClient({ apiUrl: 'http://x', queueUrl: 'https://sqs/q', sqs: new SQSClient({}) });
    await expect(
      client.consume(async () => {
        throw new Error('downstream down');
      }),
    ).rejects.toThrow('downstream down');
    expect(sqs.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });
});

describe('Function: parseCaseEvent', () => {
  it('should read a lifecycle event with its transition, and refuse what is not a case event', () => {
    const e = parseCaseEvent(envelope('Case.ExtensionApproved', 8, { transition: { action: 'approveExtension' } }));
    expect(e).toMatchObject({
      detailType: 'Case.ExtensionApproved',
      version: 8,
      transition: { action: 'approveExtension' },
    });
    expect(parseCaseEvent('{"detail":{"caseId":"x"}}')).toBeUndefined();
    expect(parseCaseEvent('<xml/>')).toBeUndefined();
  });
});

describe('Function: dueArg (cityloop dept extend --due)', () => {
  it('should read a date as the end of that day in Asia/Shanghai and keep an instant with an offset', () => {
    expect(dueArg('2025-12-10')).toBe('2025-12-10T23:59:59.999+08:00');
    expect(dueArg('2025-12-10T12:00:00+08:00')).toBe('2025-12-10T12:00:00+08:00');
    expect(() => dueArg('2025-12-10T12:00:00')).toThrow();
    expect(() => dueArg('next week')).toThrow();
  });
});
