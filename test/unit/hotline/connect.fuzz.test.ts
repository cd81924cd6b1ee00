import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeCall } from '#channels/hotline/call-record.ts';
import { CONTACT_ID_PATTERN, flowAttributes, parseConnectEvent } from '#channels/hotline/connect.ts';
import { handleConnectEvent } from '#functions/hotline/connect.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { MemoryCalls, MemoryStore } from './fakes.ts';

const sample = JSON.parse(
  readFileSync(new URL('../../../../shared/data/aws-events/connectContactFlowEventAll.json', import.meta.url), 'utf8'),
);

/** Values a JSON event can hold, plus the odd shapes a broken flow or a hand-made test event produces. */
const anyValue = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.constantFrom(null, undefined, '', 'anonymous', '+8613800138000', 'TELEPHONE_NUMBER', 'ContactFlowEvent'),
);

/** The shared sample with any of its fields replaced by arbitrary values, at any depth we read. */
const mutatedSample = fc
  .record({
    name: fc.option(anyValue),
    contactId: fc.option(fc.oneof(anyValue, fc.uuid(), fc.stringMatching(/^[A-Za-z0-9-]{1,140}$/))),
    endpoint: fc.option(fc.oneof(anyValue, fc.record({ Address: anyValue, Type: anyValue }))),
    queue: fc.option(fc.oneof(anyValue, fc.record({ Name: anyValue, ARN: anyValue }))),
    attributes: fc.option(fc.oneof(anyValue, fc.dictionary(fc.string(), anyValue))),
    parameters: fc.option(fc.oneof(anyValue, fc.dictionary(fc.string(), anyValue))),
  })
  .map((m) => {
    const e = structuredClone(sample);
    const d = e.Details.ContactData;
    if (m.name !== null) e.Name = m.name;
    if (m.contactId !== null) d.ContactId = m.contactId;
    if (m.endpoint !== null) d.CustomerEndpoint = m.endpoint;
    if (m.queue !== null) d.Queue = m.queue;
    if (m.attributes !== null) d.Attributes = m.attributes;
    if (m.parameters !== null) e.Details.Parameters = m.parameters;
    return e;
  });

describe('Fuzz: Amazon Connect event parser', () => {
  it('should never throw, and only accept events with a usable contact id and string maps', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, mutatedSample), (event) => {
        const out = parseConnectEvent(event);
        if (!out.ok) {
          expect(typeof out.code).toBe('string');
          return;
        }
        expect(out.call.contactId).toMatch(CONTACT_ID_PATTERN);
        for (const v of [...Object.values(out.call.attributes), ...Object.values(out.call.parameters)]) {
          expect(typeof v).toBe('string');
        }
        if (out.call.callerPhone) expect(out.call.callerPhone).toMatch(/^\+\d{4,20}$/);
        // What the flow gets back is a flat map of safe strings.
        const record = mergeCall(undefined, out.call, '2025-11-28T10:00:00.000+08:00');
        const attrs = flowAttributes({
          contactId: record.contactId,
          callerStatus: record.callerStatus,
          knownReports: 0,
          openCases: 0,
        });
        for (const v of Object.values(attrs)) expect(v).toMatch(/^[A-Za-z0-9_-]*$/);
      }),
      { numRuns: 400 },
    );
  });

  it('should always answer the flow with string attributes, whatever the event', async () => {
    setLogSink(() => undefined);
    const deps = { calls: new MemoryCalls(), store: new MemoryStore(), clock: { now: () => new Date() } };
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyValue, mutatedSample), async (event) => {
        const out = await handleConnectEvent(event, deps);
        expect(typeof out).toBe('object');
        for (const v of Object.values(out)) expect(typeof v).toBe('string');
        expect(['saved', 'failed']).toContain(out.callRecord);
      }),
      { numRuns: 200 },
    );
  });
});
