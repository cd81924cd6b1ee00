import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleConnectEvent } from '#functions/hotline/connect.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { MemoryCalls, MemoryStore } from './fakes.ts';

/** The parts of the shared Connect samples the tests change. */
interface ConnectSample {
  Details: {
    ContactData: {
      ContactId: string;
      InitiationMethod?: string;
      CustomerEndpoint: { Address: string; Type: string } | null;
      Attributes: Record<string, string>;
    };
  };
}
const load = (name: string): ConnectSample =>
  JSON.parse(readFileSync(new URL(`../../../../shared/data/aws-events/${name}`, import.meta.url), 'utf8'));
const CONTACT = '5ca32fbd-8f92-46af-92a5-6b0f970f0efe';

describe('Handler: Amazon Connect contact flow (connect-contact)', () => {
  let calls: MemoryCalls;
  let store: MemoryStore;
  const logs: string[] = [];
  const now = { value: new Date('2025-11-28T02:00:00Z') };
  const deps = () => ({ calls, store, clock: { now: () => now.value } });

  beforeEach(() => {
    calls = new MemoryCalls();
    store = new MemoryStore();
    logs.length = 0;
    setLogSink((l) => logs.push(l));
  });

  it('should open the call record from the full sample and answer the flow with strings', async () => {
    // Act
    const out = await handleConnectEvent(load('connectContactFlowEventAll.json'), deps());
    // Assess
    expect(out).toEqual({
      callRecord: 'saved',
      contactId: CONTACT,
      callerNumber: 'present',
      callerKnown: 'false',
      openCases: '0',
    });
    expect(calls.records.get(CONTACT)).toMatchObject({
      callerPhone: '+11234567890',
      queue: { name: 'QueueOne' },
      attributes: { Language: 'en-US' },
      firstSeenAt: '2025-11-28T10:00:00.000+08:00',
      invocations: 1,
    });
    // The caller's number never reaches the log in clear.
    expect(logs.join('\n')).not.toContain('1234567890');
  });

  it('should record the minimal sample without a caller number', async () => {
    // Act
    const out = await handleConnectEvent(load('connectContactFlowEventMin.json'), deps());
    // Assess
    expect(out).toMatchObject({ callRecord: 'saved', callerNumber: 'none', callerKnown: 'false', openCases: '0' });
    expect(calls.records.get(CONTACT)?.callerPhone).toBeUndefined();
  });

  it('should update the same record when the flow invokes it again, keeping the number', async () => {
    // Prepare
    await handleConnectEvent(load('connectContactFlowEventAll.json'), deps());
    now.value = new Date('2025-11-28T02:01:00Z');
    const min = load('connectContactFlowEventMin.json');
    min.Details.ContactData.Attributes = { ivrChoice: '3' };
    // Act
    await handleConnectEvent(min, deps());
    // Assess
    expect(calls.records.get(CONTACT)).toMatchObject({
      callerPhone: '+11234567890',
      attributes: { Language: 'en-US', ivrChoice: '3' },
      firstSeenAt: '2025-11-28T10:00:00.000+08:00',
      updatedAt: '2025-11-28T10:01:00.000+08:00',
      invocations: 2,
    });
  });

  it("should tell the flow the caller's open cases and the newest one's tracking number", async () => {
    // Prepare: two reports from this number, one concluded (answered), one still open.
    const request = (id: string) => ({
      channel: 'web' as const,
      channelMessageId: id,
      receivedAt: '2025-11-27T10:00:00+08:00',
      citizen: { phone: '+8613800138000' },
      title: '路灯',
      text: '路灯不亮',
    });
    await store.putReportIfAbsent({
      trackingNo: '20251127000001' as never,
      idemKey: 'web#a',
      request: request('a'),
      acceptedAt: '2025-11-27T10:00:00+08:00',
    });
    await store.putReportIfAbsent({
      trackingNo: '20251127000002' as never,
      idemKey: 'web#b',
      request: request('b'),
      acceptedAt: '2025-11-27T11:00:00+08:00',
    });
    store.cases.set('20251127000001', { caseId: '20251127000001', state: 'answered' } as never);
    const event = load('connectContactFlowEventAll.json');
    event.Details.ContactData.CustomerEndpoint = { Address: '+8613800138000', Type: 'TELEPHONE_NUMBER' };
    // Act
    const out = await handleConnectEvent(event, deps());
    // Assess: the untriaged report counts as open.
    expect(out).toMatchObject({ callerKnown: 'true', openCases: '1', latestOpenTrackingNo: '20251127000002' });
  });

  it.each([
    ['a malformed event', { Details: { ContactData: { ContactId: 'not valid!' } } }, 'INVALID_CONTACT_ID'],
    ['no event at all', undefined, 'NOT_AN_OBJECT'],
  ])('should answer %s with error attributes, never throw', async (_n, event, code) => {
    expect(await handleConnectEvent(event, deps())).toEqual({ callRecord: 'failed', error: code });
  });

  it('should answer STORE_UNAVAILABLE when the table cannot be written', async () => {
    // Prepare
    calls.failWith = new Error('ProvisionedThroughputExceeded');
    // Act
    const out = await handleConnectEvent(load('connectContactFlowEventAll.json'), deps());
    // Assess
    expect(out).toEqual({ callRecord: 'failed', error: 'STORE_UNAVAILABLE' });
  });
});
