import { beforeEach, describe, expect, it } from 'vitest';
import { setLogSink } from '#functions/lib/log.ts';
import { handleOpen311 } from '#functions/open311/api.ts';
import { commentUpdate, FMS_HEADERS, perlQueryForm, streetlightReport } from './fixtures/fixmystreet.ts';
import { type Harness, harness, httpEvent } from './harness.ts';
import { checkShape } from './spec-shapes.ts';

const logs: string[] = [];

describe('Handler: Open311 failure paths', () => {
  let h: Harness;
  beforeEach(async () => {
    logs.length = 0;
    setLogSink((l) => logs.push(l));
    h = await harness();
  });

  const post = (path: string, body: string) =>
    handleOpen311(httpEvent('POST', path, { body, headers: FMS_HEADERS }), h.deps);

  it('should retry a client update that raced another change of the case', async () => {
    // Prepare: the first conditional write loses the race.
    const id = JSON.parse((await post('requests.json', perlQueryForm(streetlightReport()))).body ?? '[]')[0]
      .service_request_id;
    h.triage();
    const replace = h.db.replaceCase.bind(h.db);
    let calls = 0;
    h.deps.store.replaceCase = async (c, v) => (++calls === 1 ? false : replace(c, v));
    // Act
    const res = await post('servicerequestupdates.json', perlQueryForm(commentUpdate(id, 5)));
    // Assess
    expect(res.statusCode).toBe(200);
    expect(calls).toBe(2);
    expect(h.db.cases.get(id)?.history.filter((e) => e.action === 'citizenUpdate')).toHaveLength(1);
  });

  it('should answer 500 in the spec format without internals when the store fails, and log no contact data', async () => {
    h.deps.store.getReportByIdemKey = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.1:8000');
    };
    const res = await post('requests.xml', perlQueryForm(streetlightReport()));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('ECONNREFUSED');
    expect(checkShape('errors', { headers: res.headers as Record<string, string>, body: res.body ?? '' })[0].code).toBe(
      500,
    );
    expect(logs.join('\n')).toContain('open311 failed');
  });

  it("should never write the citizen's contact to the logs", async () => {
    await post('requests.xml', perlQueryForm(streetlightReport()));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toMatch(/13800138000|li\.lei@example\.com/);
  });

  it('should read a base64 body as API Gateway may deliver it', async () => {
    const body = Buffer.from(perlQueryForm(streetlightReport())).toString('base64');
    const res = await handleOpen311(
      httpEvent('POST', 'requests.xml', { body, headers: FMS_HEADERS, base64: true }),
      h.deps,
    );
    expect(res.statusCode).toBe(200);
  });

  it('should work from rawPath alone when the gateway passes no path parameters', async () => {
    const e = httpEvent('GET', 'services/SZ-03.json');
    delete e.pathParameters;
    const res = await handleOpen311(e, h.deps);
    expect(JSON.parse(res.body ?? '{}').service_code).toBe('SZ-03');
  });
});
