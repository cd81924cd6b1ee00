import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeBus } from '#adapters/eventbridge/bus.ts';

const eb = mockClient(EventBridgeClient);
const events = (n: number) => Array.from({ length: n }, (_, i) => ({ detailType: 'Case.Dispatched', detail: { i } }));

describe('Class: EventBridgeBus', () => {
  beforeEach(() => eb.reset());

  it('should put events in batches of at most 10 entries', async () => {
    // Prepare
    eb.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: 'e' })),
    }));
    const bus = new EventBridgeBus(new EventBridgeClient({}), 'bus');
    // Act
    const out = await bus.publish(events(23));
    // Assess
    expect(out.failed).toEqual([]);
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.args[0].input.Entries?.[0]).toMatchObject({
      EventBusName: 'bus',
      Source: 'cityloop.cases',
      DetailType: 'Case.Dispatched',
    });
  });

  it('should re-send only the entries that failed (FailedEntryCount)', async () => {
    // Prepare: the first call fails entry 1 of 3; the retry succeeds.
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException' }, { EventId: 'c' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const bus = new EventBridgeBus(new EventBridgeClient({}), 'bus');
    // Act
    const out = await bus.publish(events(3));
    // Assess
    expect(out.failed).toEqual([]);
    const retry = eb.commandCalls(PutEventsCommand)[1]?.args[0].input.Entries;
    expect(retry?.map((e) => JSON.parse(e.Detail ?? '{}').i)).toEqual([1]);
  });

  it('should report the indexes that still fail after the bounded retries', async () => {
    eb.on(PutEventsCommand).rejects(new Error('network down'));
    const bus = new EventBridgeBus(new EventBridgeClient({}), 'bus', 2);
    const out = await bus.publish(events(2));
    expect(out.failed).toEqual([0, 1]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
  });
});
