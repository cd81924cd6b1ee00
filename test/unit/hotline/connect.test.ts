import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callerOf, flowAttributes, flowError, parseConnectEvent } from '#channels/hotline/connect.ts';

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
const sample = (name: string): ConnectSample =>
  JSON.parse(readFileSync(new URL(`../../../../shared/data/aws-events/${name}`, import.meta.url), 'utf8'));

describe('Function: parseConnectEvent', () => {
  it('should read the full shared sample: contact, caller number, queue, attributes and parameters', () => {
    // Prepare
    const event = sample('connectContactFlowEventAll.json');
    // Act
    const out = parseConnectEvent(event);
    // Assess
    expect(out).toEqual({
      ok: true,
      call: {
        contactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
        channel: 'VOICE',
        initiationMethod: 'API',
        callerPhone: '+11234567890',
        callerStatus: 'present',
        dialled: '+11234567890',
        queue: {
          name: 'QueueOne',
          arn: 'arn:aws:connect:eu-central-1:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa/queue/5cba7cbf-1ecb-4b6d-b8bd-fe91079b3fc8',
        },
        instanceArn: 'arn:aws:connect:eu-central-1:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa',
        attributes: { Language: 'en-US' },
        parameters: { ParameterOne: 'One', ParameterTwo: 'Two' },
        dropped: 0,
      },
    });
  });

  it('should read the minimal shared sample: no caller number, no queue, nothing invented', () => {
    // Act
    const out = parseConnectEvent(sample('connectContactFlowEventMin.json'));
    // Assess
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.call).toEqual({
      contactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
      channel: 'VOICE',
      initiationMethod: 'API',
      callerStatus: 'none',
      instanceArn: 'arn:aws:connect:eu-central-1:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa',
      attributes: {},
      parameters: {},
      dropped: 0,
    });
  });

  it('should keep the first contact of a transfer apart from the contact itself', () => {
    // Prepare
    const event = sample('connectContactFlowEventAll.json');
    event.Details.ContactData.ContactId = 'aaaaaaaa-0000-4000-8000-000000000002';
    event.Details.ContactData.InitiationMethod = 'TRANSFER';
    // Act
    const out = parseConnectEvent(event);
    // Assess
    expect(out.ok && out.call).toMatchObject({
      contactId: 'aaaaaaaa-0000-4000-8000-000000000002',
      initialContactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
      previousContactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
      initiationMethod: 'TRANSFER',
    });
  });

  it.each([
    ['null', null, 'NOT_AN_OBJECT'],
    ['an array', [1, 2], 'NOT_AN_OBJECT'],
    ['a string', 'ContactFlowEvent', 'NOT_AN_OBJECT'],
    ['another event kind', { Name: 'SomethingElse', Details: {} }, 'NOT_A_CONTACT_FLOW_EVENT'],
    ['no Details', { Name: 'ContactFlowEvent' }, 'MISSING_CONTACT_DATA'],
    ['ContactData not an object', { Details: { ContactData: 'x' } }, 'MISSING_CONTACT_DATA'],
    ['no ContactId', { Details: { ContactData: { Channel: 'VOICE' } } }, 'MISSING_CONTACT_ID'],
    ['a numeric ContactId', { Details: { ContactData: { ContactId: 12345 } } }, 'INVALID_CONTACT_ID'],
    ['a ContactId with a key separator', { Details: { ContactData: { ContactId: 'a#b' } } }, 'INVALID_CONTACT_ID'],
    ['a 200-char ContactId', { Details: { ContactData: { ContactId: 'a'.repeat(200) } } }, 'INVALID_CONTACT_ID'],
  ])('should refuse %s with a code', (_name, event, code) => {
    // Act
    const out = parseConnectEvent(event);
    // Assess
    expect(out).toMatchObject({ ok: false, code });
  });

  it('should keep only string attributes, bounded, and never a prototype key', () => {
    // Prepare
    const attributes: Record<string, unknown> = JSON.parse(
      `{"__proto__": "x", "ivr": "1", "n": 5, "nested": {"a": "b"}, "long": "${'x'.repeat(2000)}"}`,
    );
    for (let i = 0; i < 100; i++) attributes[`k${i}`] = 'v';
    // Act
    const out = parseConnectEvent({ Details: { ContactData: { ContactId: 'c-1', Attributes: attributes } } });
    // Assess
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.call.attributes.ivr).toBe('1');
    expect(Object.keys(out.call.attributes)).toHaveLength(64);
    expect(Object.hasOwn(out.call.attributes, '__proto__')).toBe(false);
    expect(out.call.dropped).toBe(4 + 100 - 63);
  });
});

describe('Function: callerOf', () => {
  it.each([
    [
      { Address: '+8613800138000', Type: 'TELEPHONE_NUMBER' },
      { phone: '+8613800138000', status: 'present' },
    ],
    [
      { Address: '13800138000', Type: 'TELEPHONE_NUMBER' },
      { phone: '+8613800138000', status: 'present' },
    ],
    [{ Address: '+86 755 1234 5678' }, { phone: '+8675512345678', status: 'present' }],
    [{ Address: 'anonymous', Type: 'TELEPHONE_NUMBER' }, { status: 'withheld' }],
    [{ Address: '+266696687', Type: 'TELEPHONE_NUMBER' }, { status: 'withheld' }],
    [{ Address: 'not a number', Type: 'TELEPHONE_NUMBER' }, { status: 'invalid' }],
    [{ Address: 'someone@example.com', Type: 'EMAIL_ADDRESS' }, { status: 'none' }],
    [{ Address: '', Type: 'TELEPHONE_NUMBER' }, { status: 'none' }],
    [null, { status: 'none' }],
  ])('should read %j as %j', (endpoint, expected) => {
    expect(callerOf(endpoint)).toEqual(expected);
  });
});

describe('Function: flowAttributes', () => {
  it('should answer a flat map of strings the flow can compare', () => {
    // Act
    const out = flowAttributes({
      contactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
      callerStatus: 'present',
      knownReports: 3,
      openCases: 2,
      latestOpenTrackingNo: '20251128000123',
    });
    // Assess
    expect(out).toEqual({
      callRecord: 'saved',
      contactId: '5ca32fbd-8f92-46af-92a5-6b0f970f0efe',
      callerNumber: 'present',
      callerKnown: 'true',
      openCases: '2',
      latestOpenTrackingNo: '20251128000123',
    });
    expect(flowError('INVALID_CONTACT_ID')).toEqual({ callRecord: 'failed', error: 'INVALID_CONTACT_ID' });
  });
});
