/**
 * Fuzz: Open311 GeoReport v2 POST requests through the real handler (in-memory ports of the Open311 harness):
 * the valid FixMyStreet report with its fields replaced by hostile text, size bombs, repeated and odd keys, invalid
 * percent-encoding. Every answer is 200 or a coded 4xx in the spec's error shape; a refusal stores and queues nothing;
 * every accepted report is the clean one form.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '#functions/lib/log.ts';
import { handleOpen311 } from '#functions/open311/api.ts';
import { perlQueryForm, streetlightReport } from '../open311/fixtures/fixmystreet.ts';
import { type Harness, harness, httpEvent } from '../open311/harness.ts';
import { assertCleanIntake, countCases, hostileText, RUNS, sizeBomb } from './hostile.ts';

const KEY = 'fuzz-key-0000000000';

describe('Fuzz: Open311 form → IntakeRequest', () => {
  let h: Harness;
  let cases = 0;
  let accepted = 0;
  beforeAll(async () => {
    setLogSink(() => undefined);
    h = await harness({
      env: { OPEN311_CLIENTS: JSON.stringify([{ id: 'fuzz', key: KEY, perMinute: 1_000_000, burst: 1_000_000 }]) },
    });
  });
  afterAll(() => countCases('open311 (form → IntakeRequest)', cases));

  it('should answer any hostile report with 200 or a coded 4xx, storing all or nothing', async () => {
    const base = streetlightReport().map(([k, v]) => (k === 'api_key' ? [k, KEY] : [k, v])) as [
      string,
      string | string[],
    ][];
    const mutated = fc
      .tuple(
        fc.array(
          fc.oneof(
            { weight: 12, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.oneof(hostileText, sizeBomb(4000)) },
          ),
          {
            minLength: base.length,
            maxLength: base.length,
          },
        ),
        fc.array(
          fc.tuple(
            fc.oneof(hostileText, fc.constantFrom('attribute[', 'description', 'service_code', 'lat')),
            hostileText,
          ),
          { maxLength: 4 },
        ),
        fc.constantFrom('', '&%E4%B8', '&%zz=1', '&a[b][c][d]=1', `&description=${'%E4%B8%AD'.repeat(3000)}`),
      )
      .map(([swap, extra, tail]) => {
        const pairs = base.map(([k, v], i) => [k, swap[i] ?? v] as [string, string | string[]]);
        return `${perlQueryForm([...pairs.filter(([k]) => k !== 'api_key'), ['api_key', KEY], ...extra])}${tail}`;
      });
    await fc.assert(
      fc.asyncProperty(mutated, fc.constantFrom('xml', 'json'), async (body, fmt) => {
        cases++;
        const before = { reports: h.db.reports.size, queued: h.queue.sent.length };
        const res = await handleOpen311(
          httpEvent('POST', `requests.${fmt}`, {
            body,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          h.deps,
        );
        const status = res.statusCode ?? 0;
        expect(status === 200 || (status >= 400 && status < 500)).toBe(true);
        if (status === 200) {
          accepted++;
          expect(h.db.reports.size - before.reports).toBeLessThanOrEqual(1);
          for (const r of h.db.reports.values()) assertCleanIntake(r.request);
        } else {
          // The per-citizen limit (10 an hour per contact) refuses after full validation: the report reached intake.
          if (status === 429 && (res.body ?? '').includes('CITIZEN_RATE_LIMITED')) accepted++;
          expect({ reports: h.db.reports.size, queued: h.queue.sent.length }).toEqual(before);
          expect(res.body ?? '').not.toMatch(/at .*\.ts:\d+/);
        }
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: hostile reports got through validation to intake (accepted and checked clean, or stopped only by
    // the per-citizen limit), not only refused by the parser.
    expect(accepted).toBeGreaterThan(RUNS / 50);
  });
});
