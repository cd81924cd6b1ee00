/**
 * Fuzz: the web channel end to end (POST /api/requests: functions/lib/http.ts parseBody → webDraft → normalizeIntake
 * → acceptReport) over the in-memory AWS: JSON and form bodies with hostile text, size bombs, deep nesting, invalid
 * UTF-8, wrong types. Every answer is 202 or a coded 4xx; a refusal writes nothing; an acceptance writes exactly one
 * report and one intake message, and the stored request is the clean one form.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { World } from '../faults/world.ts';
import { assertCleanIntake, countCases, deepJson, hostileText, invalidUtf8, RUNS, sizeBomb } from './hostile.ts';

const value = fc.oneof(
  hostileText,
  sizeBomb(100),
  sizeBomb(4000),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(hostileText, { maxLength: 3 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
);

const citizen = fc.oneof(
  fc.record({ phone: fc.oneof(hostileText, fc.constantFrom('13800138000', '+86 139 1234 5678', '0755-12345678')) }),
  fc.record({ email: fc.oneof(hostileText, fc.constantFrom('a@b.cn', 'ＡＢ＠ｃ．ｃｎ')) }),
  fc.record({ anonymous: fc.oneof(fc.constant(true), value) }),
  fc.dictionary(fc.constantFrom('phone', 'email', 'name', 'openid', '__proto__', 'anonymous'), value),
  value,
);

const jsonBody = fc
  .record(
    {
      title: fc.oneof(hostileText, sizeBomb(100), value),
      text: fc.oneof(hostileText, sizeBomb(4000), value),
      citizen,
      location: fc.oneof(
        fc.record({ address: fc.oneof(hostileText, sizeBomb(200)), lat: value, lon: value }, { requiredKeys: [] }),
        value,
      ),
      nature: fc.oneof(fc.constantFrom('咨询', '投诉', '举报'), hostileText),
      category: hostileText,
      phone: hostileText,
      address: hostileText,
      anonymous: value,
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const formBody = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('title', 'text', 'phone', 'email', 'address', 'citizen.phone', 'a.b.c.d.e.f', '__proto__.x'),
        hostileText,
      ),
      fc.oneof(hostileText, sizeBomb(4000)),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => new URLSearchParams(pairs).toString());

describe('Fuzz: web channel (JSON and form bodies through the real handler)', () => {
  let w: World;
  let cases = 0;
  beforeAll(async () => {
    w = await new World().start();
  });
  afterAll(() => {
    w.stop();
    countCases('web (JSON/form body → IntakeRequest)', cases);
  });

  const reports = () => w.ddb.itemsOf('RPT#').length;
  const queued = () => w.sqs.bodies('intake').length;

  async function check(body: string, headers: Record<string, string>) {
    cases++;
    const before = { reports: reports(), queued: queued() };
    const res = await w.post(body, headers);
    // 429: the per-citizen limit (a few reports an hour from one contact), which long runs reach with their few phones.
    expect([202, 400, 413, 415, 429]).toContain(res.status);
    if (res.status === 202) {
      const created = res.json.duplicate === false;
      expect(reports() - before.reports).toBe(created ? 1 : 0);
      expect(queued() - before.queued).toBe(1);
      const stored = w.ddb.itemsOf('RPT#').find((i) => JSON.parse(String(i.doc)).trackingNo === res.json.trackingNo);
      assertCleanIntake(JSON.parse(String(stored!.doc)).request);
    } else {
      expect(res.json.error.code).toMatch(/^[A-Z_]+$/);
      expect(JSON.stringify(res.json)).not.toMatch(/at .*\.ts:\d+|Error:/);
      expect({ reports: reports(), queued: queued() }).toEqual(before);
    }
  }

  it('should answer every JSON body with 202 or a coded 4xx, writing all or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(jsonBody, (b) => check(b, { 'content-type': 'application/json' })),
      { numRuns: RUNS },
    );
  });

  it('should answer every form body with 202 or a coded 4xx, writing all or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(formBody, (b) => check(b, { 'content-type': 'application/x-www-form-urlencoded' })),
      { numRuns: RUNS },
    );
  });

  it('should refuse deep nesting, size bombs, invalid UTF-8 and odd content types cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          deepJson.map((b) => ({ b, h: { 'content-type': 'application/json' } })),
          // Deep nesting inside a field of an otherwise valid request (a stack overflow in a naive deep copy).
          fc.tuple(deepJson, fc.constantFrom('location', 'citizen', 'title', 'attachments')).map(([deep, field]) => ({
            b: `{"title":"路灯不亮","text":"和平路88号","citizen":{"anonymous":true},"${field}":${deep}}`,
            h: { 'content-type': 'application/json' },
          })),
          fc
            .integer({ min: 60_000, max: 300_000 })
            .map((n) => ({ b: `{"text":"${'x'.repeat(n)}"}`, h: { 'content-type': 'application/json' } })),
          fc.string({ maxLength: 60 }).map((b) => ({ b, h: { 'content-type': 'application/json' } })),
          fc
            .constantFrom('text/plain', 'application/xml', '', 'application/json; charset=gbk', 'multipart/form-data')
            .map((t) => ({
              b: '{"title":"x","text":"y","citizen":{"anonymous":true}}',
              h: { 'content-type': t },
            })),
        ),
        ({ b, h }) => check(b, h),
      ),
      { numRuns: Math.max(20, Math.floor(RUNS / 2)) },
    );
  });

  it('should refuse invalid UTF-8 (base64-encoded bodies, as API Gateway passes binary) with INVALID_ENCODING', async () => {
    await fc.assert(
      fc.asyncProperty(invalidUtf8, async (bytes) => {
        cases++;
        const before = reports();
        const res = await w.web(
          {
            version: '2.0',
            routeKey: 'POST /api/requests',
            rawPath: '/api/requests',
            headers: { 'content-type': 'application/json' },
            body: bytes.toString('base64'),
            isBase64Encoded: true,
            requestContext: { http: { method: 'POST', path: '/api/requests', sourceIp: '127.0.0.1' } },
          },
          {},
        );
        expect(res.statusCode).toBe(400);
        expect(JSON.parse(res.body).error.code).toBe('INVALID_ENCODING');
        expect(reports()).toBe(before);
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 3)) },
    );
  });
});
