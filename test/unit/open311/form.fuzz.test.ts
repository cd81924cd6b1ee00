import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseForm } from '#channels/open311/form.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { handleOpen311 } from '#functions/open311/api.ts';
import { FMS_API_KEY, perlQueryForm, streetlightReport } from './fixtures/fixmystreet.ts';
import { type Harness, harness, httpEvent } from './harness.ts';
import { checkShape } from './spec-shapes.ts';

/** Form-ish text: pieces that exercise the parser's branches more often than uniform noise would. */
const formText = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        '&',
        '=',
        '%',
        '%E4',
        '%B8%AD',
        '+',
        '[',
        ']',
        '[]',
        'attribute[',
        'attribute[x]',
        'api_key',
        'lat',
      ),
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

describe('Fuzz: Open311 form parser', () => {
  let h: Harness;
  beforeAll(async () => {
    setLogSink(() => undefined);
    h = await harness({
      env: {
        OPEN311_CLIENTS: JSON.stringify([
          { id: 'fuzz', key: 'fuzz-key-0000000000', perMinute: 1_000_000, burst: 1_000_000 },
        ]),
      },
    });
  });

  it('should never throw: every input is a form or a clean 400', () => {
    fc.assert(
      fc.property(fc.oneof(formText, fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        const r = parseForm(text);
        if (!r.ok) {
          expect(r.error.status).toBe(400);
          expect(r.error.code).toMatch(/^[A-Z_]+$/);
        } else {
          for (const [k, v] of r.form.fields) expect(typeof k === 'string' && typeof v === 'string').toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('should answer any POST body with 200 or a clean 4xx in the spec error shape, never a 500', async () => {
    // Mutations of a valid FixMyStreet report: fields dropped, values replaced by noise, noise appended.
    const base = streetlightReport().map(([k, v]) => (k === 'api_key' ? [k, 'fuzz-key-0000000000'] : [k, v])) as [
      string,
      string | string[],
    ][];
    const body = fc.oneof(
      formText,
      fc
        .tuple(
          fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
          fc.array(fc.string({ maxLength: 20 }), { minLength: base.length, maxLength: base.length }),
          formText,
        )
        .map(
          ([keep, noise, tail]) =>
            `${perlQueryForm(base.filter((_, i) => keep[i]).map(([k, v], i) => (noise[i] && i % 3 === 0 ? [k, noise[i]] : [k, v])))}&${tail}`,
        ),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('xml', 'json'), async (text, fmt) => {
        const res = await handleOpen311(
          httpEvent('POST', `requests.${fmt}`, {
            body: text,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          h.deps,
        );
        expect([200, 400, 403, 404, 413]).toContain(res.statusCode);
        checkShape(res.statusCode === 200 ? 'posted' : 'errors', {
          headers: res.headers as Record<string, string>,
          body: res.body ?? '',
        });
      }),
      { numRuns: 300 },
    );
    void FMS_API_KEY;
  });

  it('should answer any GET query with 200 or a clean 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        formText,
        fc.constantFrom('requests.xml', 'servicerequestupdates.json', 'services.xml', 'requests/20251128000001.json'),
        async (q, path) => {
          const res = await handleOpen311(httpEvent('GET', path, { query: q }), h.deps);
          const status = res.statusCode ?? 0;
          expect(status === 200 || (status >= 400 && status < 500)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
