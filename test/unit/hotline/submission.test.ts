import { describe, expect, it } from 'vitest';
import type { CallRecord } from '#channels/hotline/call-record.ts';
import { agentDraft, originOf, parseLetterDate, parseSubmission } from '#channels/hotline/submission.ts';
import { CityLoopError } from '#core/errors.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';

const NOW = new Date('2025-11-28T02:00:00Z');
const CALL: CallRecord = {
  contactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
  channel: 'VOICE',
  callerPhone: '+8613800138000',
  callerStatus: 'present',
  attributes: {},
  parameters: {},
  firstSeenAt: '2025-11-28T09:58:00.000+08:00',
  updatedAt: '2025-11-28T09:58:00.000+08:00',
  invocations: 1,
  reports: [],
  version: 1,
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CityLoopError ? e.code : `not coded: ${e}`;
  }
  return undefined;
}

describe('Function: originOf', () => {
  it('should key a call by contact id and sequence (default 1)', () => {
    expect(originOf(parseSubmission({ contactId: CALL.contactId }), 'agent-001')).toEqual({
      source: 'call',
      contactId: CALL.contactId,
      seq: 1,
      channelMessageId: `${CALL.contactId}#1`,
    });
    expect(originOf(parseSubmission({ contactId: CALL.contactId, seq: '2' }), 'agent-001').channelMessageId).toBe(
      `${CALL.contactId}#2`,
    );
  });

  it('should key a walk-in by the agent from the credential and the client uuid', () => {
    const sub = parseSubmission({ clientId: '0F8C3A52-5D7B-4D0E-9C1A-2B3C4D5E6F70' });
    expect(originOf(sub, 'agent-001').channelMessageId).toBe('walkin:agent-001:0f8c3a52-5d7b-4d0e-9c1a-2b3c4d5e6f70');
    expect(originOf(sub, 'agent-002').channelMessageId).toBe('walkin:agent-002:0f8c3a52-5d7b-4d0e-9c1a-2b3c4d5e6f70');
  });

  it('should key a letter by its reference alone, written the same whoever types it', () => {
    const a = originOf(parseSubmission({ ref: '坪信〔2025〕０１２号' }), 'agent-001');
    const b = originOf(parseSubmission({ source: 'letter', ref: ' 坪信〔2025〕012号 ' }), 'agent-002');
    expect(a.channelMessageId).toBe('letter:坪信〔2025〕012号');
    expect(b.channelMessageId).toBe(a.channelMessageId);
  });

  it.each([
    [{}, 'SOURCE_REQUIRED'],
    [{ source: 'call' }, 'CONTACT_ID_REQUIRED'],
    [{ source: 'walkin' }, 'CLIENT_ID_REQUIRED'],
    [{ source: 'letter' }, 'REF_REQUIRED'],
    [{ source: 'letter', ref: '   ' }, 'INVALID_REF'],
  ])('should refuse %j with %s', (body, expected) => {
    expect(code(() => originOf(parseSubmission(body), 'agent-001'))).toBe(expected);
  });

  it.each([
    [{ contactId: 'a#b' }],
    [{ contactId: 'c', seq: 0 }],
    [{ contactId: 'c', seq: 1000 }],
    [{ clientId: 'not-a-uuid' }],
    [{ source: 'fax' }],
    [{ nature: '表扬' }],
  ])('should refuse the malformed envelope %j', (body) => {
    expect(code(() => parseSubmission(body))).toBe('VALIDATION_FAILED');
  });
});

describe('Function: agentDraft', () => {
  it('should take the caller number from telephony, not from what was typed', () => {
    // Prepare
    const sub = parseSubmission({
      contactId: CALL.contactId,
      citizen: { name: '王先生', phone: '13900000000' },
      text: '小区门口路灯不亮',
      location: { address: '坪山大道１号' },
    });
    // Act
    const { draft, callerFrom } = agentDraft(sub, originOf(sub, 'agent-001'), {
      agentId: 'agent-001',
      now: NOW,
      call: CALL,
    });
    const request = normalizeIntake(draft);
    // Assess
    expect(callerFrom).toBe('telephony');
    expect(request).toMatchObject({
      channel: 'hotline',
      channelMessageId: `${CALL.contactId}#1`,
      receivedAt: CALL.firstSeenAt,
      citizen: { name: '王先生', phone: '+8613800138000' },
      title: '小区门口路灯不亮',
      location: { address: '坪山大道1号' },
      enteredBy: 'agent-001',
      language: 'zh-CN',
    });
  });

  it('should use the typed number when telephony had none, and the time of entry', () => {
    // Prepare
    const sub = parseSubmission({ contactId: 'c-9', citizen: { phone: '139 0000 0000' }, text: '咨询公积金提取' });
    // Act
    const { draft, callerFrom } = agentDraft(sub, originOf(sub, 'agent-002'), { agentId: 'agent-002', now: NOW });
    // Assess
    expect(callerFrom).toBe('typed');
    expect(normalizeIntake(draft)).toMatchObject({
      citizen: { phone: '+8613900000000' },
      receivedAt: '2025-11-28T10:00:00.000+08:00',
      enteredBy: 'agent-002',
    });
  });

  it('should date a letter by the day it arrived', () => {
    // Prepare
    const sub = parseSubmission({
      ref: 'L-1',
      receivedAt: '2025/11/20',
      citizen: { anonymous: true },
      text: '反映噪音',
    });
    // Act
    const { draft } = agentDraft(sub, originOf(sub, 'agent-001'), { agentId: 'agent-001', now: NOW });
    // Assess
    expect(normalizeIntake(draft)).toMatchObject({
      receivedAt: '2025-11-20T00:00:00+08:00',
      citizen: { anonymous: true },
    });
  });
});

describe('Function: parseLetterDate', () => {
  it.each([
    ['2025-11-20', '2025-11-20T00:00:00+08:00'],
    ['2025.1.5', '2025-01-05T00:00:00+08:00'],
    ['2025-11-27T15:30:00Z', '2025-11-27T23:30:00.000+08:00'],
  ])('should read %s', (raw, iso) => {
    expect(parseLetterDate(raw, NOW)).toBe(iso);
  });

  it.each([['2025-02-30'], ['2025-12-01'], ['2023-01-01'], ['yesterday'], ['2025-13-01']])(
    'should refuse %s',
    (raw) => {
      expect(code(() => parseLetterDate(raw, NOW))).toBe('INVALID_RECEIVED_AT');
    },
  );
});
