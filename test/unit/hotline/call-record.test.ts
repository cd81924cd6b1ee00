import { describe, expect, it } from 'vitest';
import { addReport, mergeCall } from '#channels/hotline/call-record.ts';
import type { ConnectCall } from '#channels/hotline/connect.ts';

const T1 = '2025-11-28T10:00:00.000+08:00';
const T2 = '2025-11-28T10:01:30.000+08:00';

const call = (over: Partial<ConnectCall> = {}): ConnectCall => ({
  contactId: 'c-1',
  channel: 'VOICE',
  callerStatus: 'present',
  callerPhone: '+8613800138000',
  attributes: { Language: 'zh-CN' },
  parameters: {},
  dropped: 0,
  ...over,
});

describe('Function: mergeCall', () => {
  it('should open a record at the first invocation, received at that instant', () => {
    // Act
    const r = mergeCall(undefined, call({ queue: { name: '12345 热线' } }), T1);
    // Assess
    expect(r).toMatchObject({
      contactId: 'c-1',
      callerPhone: '+8613800138000',
      callerStatus: 'present',
      queue: { name: '12345 热线' },
      firstSeenAt: T1,
      updatedAt: T1,
      invocations: 1,
      reports: [],
    });
    expect(r).not.toHaveProperty('dropped');
  });

  it('should merge a later invocation: new attributes and queue, the first time and the caller kept', () => {
    // Prepare
    const first = mergeCall(undefined, call(), T1);
    // Act: the flow calls again after the IVR menu, on a transfer flow that lacks the customer endpoint
    const next = mergeCall(
      first,
      call({ callerPhone: undefined, callerStatus: 'none', attributes: { ivrChoice: '2' }, queue: { name: '投诉' } }),
      T2,
    );
    // Assess
    expect(next).toMatchObject({
      callerPhone: '+8613800138000',
      callerStatus: 'present',
      attributes: { Language: 'zh-CN', ivrChoice: '2' },
      queue: { name: '投诉' },
      firstSeenAt: T1,
      updatedAt: T2,
      invocations: 2,
    });
  });

  it('should say "withheld" rather than "none" when telephony said so once', () => {
    // Prepare
    const first = mergeCall(undefined, call({ callerPhone: undefined, callerStatus: 'withheld' }), T1);
    // Act
    const next = mergeCall(first, call({ callerPhone: undefined, callerStatus: 'none' }), T2);
    // Assess
    expect(next.callerStatus).toBe('withheld');
    expect(next.callerPhone).toBeUndefined();
  });
});

describe('Function: addReport', () => {
  it('should list a report once per sequence number, in order', () => {
    // Prepare
    const r = mergeCall(undefined, call(), T1);
    // Act
    const a = addReport(r, { seq: 2, trackingNo: '20251128000002', enteredBy: 'agent-001', at: T2 })!;
    const b = addReport(a, { seq: 1, trackingNo: '20251128000001', enteredBy: 'agent-001', at: T2 })!;
    const again = addReport(b, { seq: 2, trackingNo: '20251128000009', enteredBy: 'agent-002', at: T2 });
    // Assess
    expect(b.reports.map((x) => x.seq)).toEqual([1, 2]);
    expect(again).toBeUndefined();
  });
});
