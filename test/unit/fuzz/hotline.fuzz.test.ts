/**
 * Fuzz: the hotline's parsers. Amazon Connect contact-flow events (parseConnectEvent: wrong types, missing parts, deep
 * nesting, hostile caller numbers and attributes), the agent console's submission (parseSubmission → agentDraft →
 * normalizeIntake) and letter/walk-in CSV imports (decodeCsv → readCsvRecords → mapHeader → rowToSubmission). None may
 * throw anything but a coded 4xx; what they accept is clean.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConnectEvent } from '#channels/hotline/connect.ts';
import { decodeCsv, mapHeader, readCsvRecords, rowToSubmission } from '#channels/hotline/csv.ts';
import { agentDraft, originOf, parseSubmission } from '#channels/hotline/submission.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import { assertClean4xx, assertCleanIntake, countCases, hostileText, invalidUtf8, RUNS, sizeBomb } from './hostile.ts';

const counts = { connect: 0, agent: 0, csv: 0, agentAccepted: 0 };
const usually = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad });

const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileText, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const connectEvent = fc.record(
  {
    Name: fc.oneof(fc.constant('ContactFlowEvent'), hostileText),
    Details: fc.oneof(
      fc.record(
        {
          ContactData: fc.record(
            {
              ContactId: fc.oneof(fc.uuid(), hostileText, sizeBomb(200)),
              InitialContactId: fc.oneof(fc.uuid(), anyJson),
              Channel: fc.oneof(fc.constantFrom('VOICE', 'CHAT'), anyJson),
              InitiationMethod: fc.oneof(fc.constantFrom('INBOUND', 'TRANSFER', 'CALLBACK'), anyJson),
              CustomerEndpoint: fc.oneof(
                fc.record({
                  Address: fc.oneof(fc.constantFrom('+8613800138000', 'anonymous', ''), hostileText),
                  Type: fc.constantFrom('TELEPHONE_NUMBER', 'x'),
                }),
                anyJson,
              ),
              Attributes: fc.oneof(fc.dictionary(hostileText, hostileText, { maxKeys: 8 }), anyJson),
              Queue: anyJson,
            },
            { requiredKeys: [] },
          ),
          Parameters: fc.oneof(fc.dictionary(hostileText, hostileText), anyJson),
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);

describe('Fuzz: hotline (Connect events, agent submissions, CSV imports)', () => {
  afterAll(() => {
    countCases('hotline Connect events', counts.connect);
    countCases('hotline agent submission', counts.agent);
    countCases('hotline CSV import', counts.csv);
  });

  it('should parse or refuse any Connect event without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(connectEvent, anyJson), (event) => {
        counts.connect++;
        const r = parseConnectEvent(event);
        if (r.ok) {
          expect(r.call.contactId).toMatch(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/);
          if (r.call.callerPhone !== undefined) expect(r.call.callerPhone).toMatch(/^\+\d{6,16}$/);
        } else {
          expect(r.code).toMatch(/^[A-Z_]+$/);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('should turn any agent submission into the clean one form or a coded 4xx', () => {
    const submission = fc.record(
      {
        source: usually(fc.constantFrom('call', 'walkin'), hostileText),
        contactId: usually(fc.uuid(), hostileText),
        seq: usually(fc.integer({ min: 1, max: 999 }), anyJson),
        clientId: usually(fc.uuid(), hostileText),
        title: usually(hostileText, sizeBomb(100)),
        text: usually(
          hostileText.map((t) => `${t}路灯不亮`),
          sizeBomb(4000),
        ),
        citizen: usually(
          fc.record(
            { phone: usually(fc.constant('13800138000'), hostileText), name: hostileText },
            { requiredKeys: ['phone'] },
          ),
          anyJson,
        ),
        location: usually(fc.record({ address: hostileText }), anyJson),
        receivedAt: usually(fc.constantFrom('2025-11-27', '2025-11-28T09:00:00+08:00'), hostileText),
        ref: usually(fc.constant('信-2025-001'), hostileText),
      },
      { requiredKeys: ['source', 'contactId', 'clientId', 'text', 'citizen'] },
    );
    fc.assert(
      fc.property(submission, (body) => {
        counts.agent++;
        try {
          const s = parseSubmission(body);
          const origin = originOf(s, 'agent-001');
          const { draft } = agentDraft(s, origin, { agentId: 'agent-001', now: new Date('2025-11-28T10:00:00+08:00') });
          assertCleanIntake(normalizeIntake(draft));
          counts.agentAccepted++;
        } catch (e) {
          assertClean4xx(e);
        }
      }),
      { numRuns: RUNS },
    );
    expect(counts.agentAccepted).toBeGreaterThan(0);
  });

  it('should decode and read any CSV bytes into rows or coded refusals', () => {
    const cell = fc.oneof(
      hostileText,
      fc.constantFrom('"', '""', ',', '\n', '\r\n', '="=1+1"', '@SUM(A1)'),
      sizeBomb(4000),
    );
    const csv = fc.oneof(
      fc
        .tuple(
          fc.shuffledSubarray(['标题', '内容', '来电号码', '地址', '姓名', '收信日期', '编号', '来源', 'x'], {
            minLength: 1,
          }),
          fc.array(fc.array(cell, { maxLength: 9 }), { maxLength: 6 }),
        )
        .map(([head, rows]) =>
          Buffer.from(
            [head.join(','), ...rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(','))].join('\r\n'),
          ),
        ),
      invalidUtf8,
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.constant(Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x0a])),
    );
    fc.assert(
      fc.property(csv, (bytes) => {
        counts.csv++;
        try {
          const { text } = decodeCsv(bytes);
          const records = readCsvRecords(text);
          const first = records[0];
          if (!first || !('fields' in first)) return;
          const header = mapHeader(first.fields as string[]);
          if (!header.ok) {
            expect(header.code).toMatch(/^[A-Z_]+$/);
            return;
          }
          for (const r of records.slice(1)) {
            if (!('fields' in r)) continue;
            const row = rowToSubmission(r.fields as string[], header.header);
            expect(typeof row.ok).toBe('boolean');
          }
        } catch (e) {
          assertClean4xx(e);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
