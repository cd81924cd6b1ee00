import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busPort, lazyPort, queuePort, resetBusClient, resetQueueClient } from '#functions/lib/aws-adapters-lazy.ts';

describe('Function: lazyPort', () => {
  it('should load once on the first call, forward every call with its arguments, and load nothing before', async () => {
    // Prepare
    let loads = 0;
    const calls: unknown[][] = [];
    const port = lazyPort<{ send(a: string, b: number): Promise<string> }>(['send'], async () => {
      loads++;
      return {
        send: async (a: string, b: number) => {
          calls.push([a, b]);
          return `${a}${b}`;
        },
      };
    });

    // Act
    const before = loads;
    const [x, y] = await Promise.all([port.send('a', 1), port.send('b', 2)]);

    // Assess
    expect(before).toBe(0);
    expect(loads).toBe(1);
    expect([x, y]).toEqual(['a1', 'b2']);
    expect(calls).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('should pass on a failed load and try again on the next call', async () => {
    // Prepare
    let loads = 0;
    const port = lazyPort<{ get(): Promise<number> }>(['get'], async () => {
      loads++;
      if (loads === 1) throw new Error('chunk missing');
      return { get: async () => 42 };
    });

    // Act
    const first = await port.get().catch((e: Error) => e.message);
    const second = await port.get();

    // Assess
    expect(first).toBe('chunk missing');
    expect(second).toBe(42);
    expect(loads).toBe(2);
  });

  it('should reject as the real method rejects', async () => {
    // Prepare
    const port = lazyPort<{ put(): Promise<void> }>(['put'], async () => ({
      put: async () => {
        throw Object.assign(new Error('denied'), { code: 'ACCESS_DENIED' });
      },
    }));

    // Act
    const err = await port.put().catch((e: { code?: string }) => e);

    // Assess
    expect(err).toMatchObject({ code: 'ACCESS_DENIED', message: 'denied' });
  });
});

describe('Module: aws-adapters-lazy', () => {
  const eb = mockClient(EventBridgeClient);
  const sqs = mockClient(SQSClient);
  beforeEach(() => {
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.QUEUE_URL_INTAKE = 'https://sqs.us-east-1.amazonaws.com/000000000000/cityloop-intake';
    eb.reset();
    sqs.reset();
  });
  afterEach(() => {
    resetBusClient();
    resetQueueClient();
    delete process.env.QUEUE_URL_INTAKE;
  });

  it('should publish through the EventBridge adapter on the named bus', async () => {
    // Prepare
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });

    // Act
    const out = await busPort('cityloop-bus', () => import('#adapters/eventbridge/bus.ts')).publish([
      { detailType: 'CaseOpened', detail: { caseId: 'c-1' } },
    ]);

    // Assess
    expect(out).toEqual({ failed: [] });
    const input = eb.commandCalls(PutEventsCommand)[0]?.args[0].input;
    expect(input?.Entries?.[0]).toMatchObject({ EventBusName: 'cityloop-bus', DetailType: 'CaseOpened' });
  });

  it('should send through the SQS adapter', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }] });

    // Act
    await queuePort(() => import('#adapters/sqs/queue.ts')).send('intake', ['{"a":1}']);

    // Assess
    const input = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(process.env.QUEUE_URL_INTAKE);
    expect(input?.Entries?.map((e) => e.MessageBody)).toEqual(['{"a":1}']);
  });
});
