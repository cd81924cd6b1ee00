import { beforeEach, describe, expect, it } from 'vitest';
import type { IntakeMessage } from '#core/intake/accept.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { handleOpen311 } from '#functions/open311/api.ts';
import {
  commentUpdate,
  FMS_API_KEY,
  FMS_HEADERS,
  FMS_JURISDICTION,
  manholeReport,
  perlQueryForm,
  phpStyleReport,
  streetlightReport,
  updatesQuery,
} from './fixtures/fixmystreet.ts';
import { type Harness, harness, httpEvent } from './harness.ts';
import { type Answer, checkShape, type ShapeKind } from './spec-shapes.ts';

const FORMATS = ['xml', 'json'] as const;
const PERSONAL = /li\.lei@example\.com|13800138000|8613800138000|\bLei\b|han\.mei|\bMei\b/;

let h: Harness;

async function call(method: string, path: string, opts: Parameters<typeof httpEvent>[2] = {}) {
  const res = await handleOpen311(httpEvent(method, path, opts), h.deps);
  return { ...res, headers: res.headers as Record<string, string>, body: res.body ?? '' };
}

/** Calls, checks the status and the spec shape of the answer, returns the answer as JSON-shaped data. */
async function expectShape(
  kind: ShapeKind,
  status: number,
  method: string,
  path: string,
  opts: Parameters<typeof httpEvent>[2] = {},
) {
  const res = await call(method, path, opts);
  expect(res.statusCode, res.body).toBe(status);
  return { res, data: checkShape(kind, res) };
}

const post = (path: string, body: string, headers: Record<string, string> = FMS_HEADERS) =>
  call('POST', path, { body, headers });

describe('Contract: Open311 GeoReport v2 as FixMyStreet calls it', () => {
  beforeEach(async () => {
    setLogSink(() => undefined);
    h = await harness();
  });

  describe.each(FORMATS)('format %s', (fmt) => {
    it('should answer discovery with the spec endpoint and both formats', async () => {
      const { data } = await expectShape('discovery', 200, 'GET', `discovery.${fmt}`);
      expect(data.endpoints[0]).toMatchObject({
        specification: 'http://wiki.open311.org/GeoReport_v2',
        url: 'http://127.0.0.1:8787/open311/v2',
        type: 'production',
        formats: ['text/xml', 'application/json'],
      });
    });

    it('should list the 事项清单 leaves as services with group and keywords', async () => {
      const { data } = await expectShape('services', 200, 'GET', `services.${fmt}`, {
        query: perlQueryForm([['jurisdiction_id', FMS_JURISDICTION]]),
      });
      expect(data.length).toBeGreaterThan(50);
      expect(data.find((s: Answer) => s.service_code === 'SZ-01')).toMatchObject({
        service_name: '路灯照明',
        metadata: true,
        type: 'realtime',
        group: '市政设施',
      });
      expect(data.find((s: Answer) => s.service_code === 'SZ-02')).toMatchObject({ metadata: false });
      expect(data.some((s: Answer) => s.service_code === 'SZ')).toBe(false);
    });

    it('should define a service with ordered, typed attributes and list values', async () => {
      const { data } = await expectShape('serviceDefinition', 200, 'GET', `services/SZ-01.${fmt}`);
      expect(data.service_code).toBe('SZ-01');
      expect(data.attributes.map((a: Answer) => [a.code, a.datatype, a.required, a.order])).toEqual([
        ['fault', 'multivaluelist', true, 1],
        ['pole_number', 'string', false, 2],
      ]);
      expect(data.attributes[0].values).toContainEqual({ key: 'flicker', name: '闪烁' });
      // A service without attributes has an empty definition, not an error.
      const plain = await expectShape('serviceDefinition', 200, 'GET', `services/SZ-02.${fmt}`);
      expect(plain.data.attributes).toEqual([]);
      await expectShape('errors', 404, 'GET', `services/NO-SUCH.${fmt}`);
    });

    it("should accept FixMyStreet's POST, answer id + token + notice, and queue an open311 IntakeRequest", async () => {
      // Act
      const res = await post(`requests.${fmt}`, perlQueryForm(streetlightReport()));
      // Assess: the spec shape
      expect(res.statusCode, res.body).toBe(200);
      const [posted] = checkShape('posted', res);
      expect(posted.service_request_id).toBe('20251128000001');
      expect(posted.token).toMatch(/^env\.20251128\.[\w-]{22}$/);
      expect(posted.service_notice).toContain('20251128000001');
      expect(posted.account_id).toBeNull();
      // The report: the one form, channel open311, the service code as a hint, the contact normalized.
      const msg = JSON.parse(h.queue.sent[0]?.body ?? '{}') as IntakeMessage;
      const r = msg.report.request;
      expect(r).toMatchObject({
        channel: 'open311',
        categoryHint: 'SZ-01',
        title: '和平路88号路灯不亮',
        citizen: { name: 'Lei Li', phone: '+8613800138000', email: 'li.lei@example.com' },
        location: { lat: 22.708123, lon: 114.346789, datum: 'WGS84' },
      });
      expect(r.text).toContain('故障情况：不亮、闪烁');
      expect(r.text).toContain('路灯杆编号：PS-0123');
      expect(r.text).toContain('图片 media_url：https://fixmystreet.example.org/photo/4101.0.full.jpeg');
      // The raw form is kept, without the api_key.
      const raw = h.blobs.items.get(r.rawKey ?? '') ?? '';
      expect(raw).toContain('fixmystreet_id');
      expect(raw).not.toContain(FMS_API_KEY);
    });

    it('should give a retry of the same report the same 受理编号, within 24 hours', async () => {
      const body = perlQueryForm(streetlightReport());
      const first = checkShape('posted', await post(`requests.${fmt}`, body))[0];
      h.clock.t += 20 * 3600_000; // the next day in Shanghai, 20 hours later
      const again = checkShape('posted', await post(`requests.${fmt}`, body))[0];
      expect(again.service_request_id).toBe(first.service_request_id);
      expect(h.db.reports.size).toBe(1);
      // Not triaged yet (no case): the retry queues it again, harmlessly, so it cannot be lost.
      expect(h.queue.sent).toHaveLength(2);
      h.clock.t += 5 * 3600_000; // 25 hours after the first: a new report
      const later = checkShape('posted', await post(`requests.${fmt}`, body))[0];
      expect(later.service_request_id).not.toBe(first.service_request_id);
    });

    it('should resolve a token to its service_request_id', async () => {
      const posted = checkShape('posted', await post(`requests.${fmt}`, perlQueryForm(streetlightReport())))[0];
      const { data } = await expectShape('tokens', 200, 'GET', `tokens/${posted.token}.${fmt}`);
      expect(data).toEqual([{ service_request_id: posted.service_request_id, token: posted.token }]);
      await expectShape('errors', 404, 'GET', `tokens/env.20251128.AAAAAAAAAAAAAAAAAAAAAA.${fmt}`);
      await expectShape('errors', 404, 'GET', `tokens/not-a-token.${fmt}`);
    });

    it('should publish a request by id before and after triage, without personal data', async () => {
      const posted = checkShape('posted', await post(`requests.${fmt}`, perlQueryForm(streetlightReport())))[0];
      const id = posted.service_request_id;
      const before = await expectShape('requests', 200, 'GET', `requests/${id}.${fmt}`);
      expect(before.data[0]).toMatchObject({ service_request_id: id, status: 'open', service_code: 'SZ-01' });
      h.triage();
      const after = await expectShape('requests', 200, 'GET', `requests/${id}.${fmt}`, {
        query: perlQueryForm([['jurisdiction_id', FMS_JURISDICTION]]),
      });
      expect(after.data[0]).toMatchObject({
        service_request_id: id,
        status: 'open',
        service_name: '路灯照明',
        agency_responsible: '区城市管理和综合执法局',
        requested_datetime: '2025-11-28T10:00:00+08:00',
        lat: 22.7081,
        long: 114.3468,
      });
      expect(after.res.body).not.toMatch(PERSONAL);
      await expectShape('errors', 404, 'GET', `requests/20251128999999.${fmt}`);
      await expectShape('errors', 400, 'GET', `requests/abc.${fmt}`);
    });

    it('should list requests by date, status, service_code and page', async () => {
      await post(`requests.${fmt}`, perlQueryForm(streetlightReport(1)));
      h.clock.t += 60_000;
      await post(`requests.${fmt}`, perlQueryForm(manholeReport(2)));
      h.triage();
      const window = [
        ['start_date', '2025-11-28T00:00:00+08:00'],
        ['end_date', '2025-11-28T23:59:59+08:00'],
      ] as [string, string][];
      const all = await expectShape('requests', 200, 'GET', `requests.${fmt}`, { query: perlQueryForm(window) });
      expect(all.data.map((r: Answer) => r.service_code)).toEqual(['SZ-03', 'SZ-01']);
      expect(all.res.body).not.toMatch(PERSONAL);
      const lights = await expectShape('requests', 200, 'GET', `requests.${fmt}`, {
        query: perlQueryForm([...window, ['service_code', 'SZ-01,SZ-05']]),
      });
      expect(lights.data.map((r: Answer) => r.service_code)).toEqual(['SZ-01']);
      const closed = await expectShape('requests', 200, 'GET', `requests.${fmt}`, {
        query: perlQueryForm([...window, ['status', 'closed']]),
      });
      expect(closed.data).toEqual([]);
      const page2 = await expectShape('requests', 200, 'GET', `requests.${fmt}`, {
        query: perlQueryForm([...window, ['page', '2'], ['page_size', '1']]),
      });
      expect(page2.data.map((r: Answer) => r.service_code)).toEqual(['SZ-01']);
      const byIds = await expectShape('requests', 200, 'GET', `requests.${fmt}`, {
        query: `service_request_id=20251128000002,20251128000001,20251128999999`,
      });
      expect(byIds.data.map((r: Answer) => r.service_request_id)).toEqual(['20251128000002', '20251128000001']);
      await expectShape('errors', 400, 'GET', `requests.${fmt}`, {
        query: perlQueryForm([
          ['start_date', '2025-01-01'],
          ['end_date', '2025-06-01'],
        ]),
      });
      await expectShape('errors', 400, 'GET', `requests.${fmt}`, { query: 'status=pending' });
    });

    it('should report a status change in servicerequestupdates, and never internal notes', async () => {
      const posted = checkShape('posted', await post(`requests.${fmt}`, perlQueryForm(streetlightReport())))[0];
      const id = posted.service_request_id;
      h.triage();
      await h.change(id, 'signed', '已签收，安排维修班组');
      await h.change(id, 'closed', '路灯已修复，恢复照明');
      const { data, res } = await expectShape('updates', 200, 'GET', `servicerequestupdates.${fmt}`, {
        query: updatesQuery('2025-11-28T10:00:00+08:00', '2025-11-28T12:00:00+08:00'),
      });
      expect(data.map((u: Answer) => [u.service_request_id, u.status, u.description])).toEqual([
        [id, 'OPEN', `经Open311 接口受理，受理编号 ${id}`],
        [id, 'ACTION_SCHEDULED', '已派单至区城市管理和综合执法局'],
        [id, 'IN_PROGRESS', '已签收，安排维修班组'],
        [id, 'CLOSED', '路灯已修复，恢复照明'],
      ]);
      expect(new Set(data.map((u: Answer) => u.update_id)).size).toBe(4);
      expect(res.body).not.toContain('内部备注');
      expect(res.body).not.toContain('13912345678');
      // The closed case reads closed, and the window excludes what came before it.
      const late = await expectShape('updates', 200, 'GET', `servicerequestupdates.${fmt}`, {
        query: updatesQuery('2025-11-28T10:45:00+08:00', '2025-11-28T12:00:00+08:00'),
      });
      expect(late.data.map((u: Answer) => u.status)).toEqual(['CLOSED']);
      const req = await expectShape('requests', 200, 'GET', `requests/${id}.${fmt}`);
      expect(req.data[0]).toMatchObject({ status: 'closed', status_notes: '路灯已修复，恢复照明' });
    });

    it('should record a FixMyStreet comment as 市民补充 once, and not echo it as an update', async () => {
      const id = checkShape('posted', await post(`requests.${fmt}`, perlQueryForm(streetlightReport())))[0]
        .service_request_id;
      // Before triage there is no case yet: a clear retry-later answer.
      const early = await post(`servicerequestupdates.${fmt}`, perlQueryForm(commentUpdate(id, 77)));
      expect(early.statusCode).toBe(409);
      checkShape('errors', early);
      h.triage();
      h.clock.t += 60 * 60_000;
      const first = await expectShape('updatePosted', 200, 'POST', `servicerequestupdates.${fmt}`, {
        body: perlQueryForm(commentUpdate(id, 77)),
        headers: FMS_HEADERS,
      });
      const again = await expectShape('updatePosted', 200, 'POST', `servicerequestupdates.${fmt}`, {
        body: perlQueryForm(commentUpdate(id, 77)),
        headers: FMS_HEADERS,
      });
      expect(again.data).toEqual(first.data);
      const c = h.db.cases.get(id);
      const added = c?.history.filter((e: Answer) => e.action === 'citizenUpdate') ?? [];
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({
        actor: { role: 'citizen', id: 'open311:env' },
        text: '今晚路过还是不亮，麻烦再看看。',
      });
      expect(c?.version).toBe(2);
      const feed = await expectShape('updates', 200, 'GET', `servicerequestupdates.${fmt}`, {
        query: updatesQuery('2025-11-28T10:30:00+08:00', '2025-11-28T12:00:00+08:00'),
      });
      expect(feed.data).toEqual([]);
      // On a concluded case the comment is refused with a reason (reopening goes through 12345).
      await h.change(id, 'closed', '已修复');
      const refused = await expectShape('errors', 400, 'POST', `servicerequestupdates.${fmt}`, {
        body: perlQueryForm(commentUpdate(id, 78, 'OPEN')),
        headers: FMS_HEADERS,
      });
      expect(refused.data[0].description).toMatch(/^CASE_CONCLUDED/);
    });

    it('should accept an address-only report and a PHP-style client with attribute[CODE][] arrays', async () => {
      const manhole = checkShape('posted', await post(`requests.${fmt}`, perlQueryForm(manholeReport())))[0];
      expect(manhole.service_notice).toContain('坠落危险');
      const php = checkShape(
        'posted',
        await post(`requests.${fmt}`, phpStyleReport(), {
          'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
        }),
      )[0];
      expect(php.account_id).toBe('acct-42');
      const reqs = [...h.db.reports.values()].map((r: Answer) => r.request);
      expect(reqs[0]).toMatchObject({ location: { address: '东门路与和平路交叉口' }, categoryHint: 'SZ-03' });
      expect(reqs[1]?.citizen).toEqual({ anonymous: true });
      expect(reqs[1]?.text).toContain('故障情况：白天常亮、灯杆或灯具损坏');
    });

    it.each([
      [
        'no api_key',
        () => perlQueryForm(streetlightReport().filter(([k]) => k !== 'api_key')),
        FMS_HEADERS,
        403,
        'MISSING_API_KEY',
      ],
      [
        'a wrong api_key',
        () =>
          perlQueryForm(streetlightReport().map(([k, v]) => (k === 'api_key' ? [k, 'wrong-key-wrong-key'] : [k, v]))),
        FMS_HEADERS,
        403,
        'INVALID_API_KEY',
      ],
      [
        'another jurisdiction',
        () => perlQueryForm(streetlightReport().map(([k, v]) => (k === 'jurisdiction_id' ? [k, 'sfgov.org'] : [k, v]))),
        FMS_HEADERS,
        404,
        'UNKNOWN_JURISDICTION',
      ],
      [
        'an unknown service',
        () => perlQueryForm(streetlightReport().map(([k, v]) => (k === 'service_code' ? [k, 'XX-99'] : [k, v]))),
        FMS_HEADERS,
        400,
        'UNKNOWN_SERVICE',
      ],
      [
        'a missing required attribute',
        () => perlQueryForm(streetlightReport().filter(([k]) => k !== 'attribute[fault]')),
        FMS_HEADERS,
        400,
        'MISSING_ATTRIBUTE',
      ],
      [
        'a list value not in the definition',
        () => perlQueryForm(streetlightReport().map(([k, v]) => (k === 'attribute[fault]' ? [k, 'exploded'] : [k, v]))),
        FMS_HEADERS,
        400,
        'INVALID_ATTRIBUTE',
      ],
      [
        'a 4001-character description',
        () =>
          `api_key=${FMS_API_KEY}&service_code=SZ-02&lat=22.7&long=114.3&attribute%5Bx%5D=1&description=${'长'.repeat(4001)}`,
        FMS_HEADERS,
        400,
        'DESCRIPTION_TOO_LONG',
      ],
      [
        'multipart/form-data',
        () => '--x\r\n',
        { 'content-type': 'multipart/form-data; boundary=x' },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a JSON body',
        () => '{"service_code":"SZ-01"}',
        { 'content-type': 'application/json' },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a GBK charset',
        () => 'a=b',
        { 'content-type': 'application/x-www-form-urlencoded; charset=gbk' },
        415,
        'UNSUPPORTED_CHARSET',
      ],
      [
        'a 100 kB body',
        () => `api_key=${FMS_API_KEY}&description=${'x'.repeat(100_000)}`,
        FMS_HEADERS,
        413,
        'BODY_TOO_LARGE',
      ],
      ['a malformed escape', () => `api_key=${FMS_API_KEY}&description=%E4%B8`, FMS_HEADERS, 400, 'MALFORMED_FORM'],
      [
        'a repeated field',
        () => `api_key=${FMS_API_KEY}&service_code=SZ-01&service_code=SZ-02`,
        FMS_HEADERS,
        400,
        'DUPLICATE_FIELD',
      ],
    ])('should refuse %s with the spec error list', async (_name, body, headers, status, code) => {
      for (const f of FORMATS) {
        const res = await post(`requests.${f}`, body(), headers);
        expect(res.statusCode, res.body).toBe(status);
        const errors = checkShape('errors', res);
        expect(errors[0]).toMatchObject({ code: status });
        expect(errors.map((e: Answer) => e.description.split(':')[0])).toContain(code);
      }
      void fmt;
      expect(h.queue.sent).toHaveLength(0);
    });

    it('should list every problem of a form at once', async () => {
      const res = await post(
        `requests.${fmt}`,
        perlQueryForm([
          ['api_key', FMS_API_KEY],
          ['lat', '99'],
        ]),
      );
      const errors = checkShape('errors', res);
      expect(errors.map((e: Answer) => e.description.split(':')[0]).sort()).toEqual([
        'INVALID_LOCATION',
        'MISSING_FIELD',
      ]);
    });

    it('should answer unknown paths, formats and methods in the spec format', async () => {
      await expectShape('errors', 404, 'GET', `nothing.${fmt}`);
      await expectShape('errors', 404, 'GET', `requests/1/2.${fmt}`);
      await expectShape('errors', 405, 'POST', `services.${fmt}`, { body: '', headers: FMS_HEADERS });
      await expectShape('errors', 404, 'GET', `services.${fmt}`, { query: 'jurisdiction_id=sfgov.org' });
    });
  });

  it('should refuse an unknown format in XML, the required format', async () => {
    const res = await call('GET', 'services.csv');
    expect(res.statusCode).toBe(400);
    expect(checkShape('errors', res)[0].description).toMatch(/^UNSUPPORTED_FORMAT/);
  });

  it('should rate-limit a client per api_key with 429 and Retry-After, and refill over time', async () => {
    // Prepare: a client allowed 2 requests at once, 60 a minute.
    h = await harness({
      env: { OPEN311_CLIENTS: JSON.stringify([{ id: 'tiny', key: 'tiny-client-key-0001', perMinute: 60, burst: 2 }]) },
    });
    const body = (n: number) =>
      perlQueryForm(
        streetlightReport(n).map(([k, v]) => (k === 'api_key' ? [k, 'tiny-client-key-0001'] : [k, v])) as [
          string,
          string,
        ][],
      );
    // Act
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post('requests.xml', body(i))).statusCode);
    const limited = await post('requests.json', body(9));
    // Assess
    expect(codes).toEqual([200, 200, 429]);
    expect(limited.headers['retry-after']).toBe('1');
    expect(checkShape('errors', limited)[0]).toMatchObject({ code: 429 });
    h.clock.t += 1000;
    expect((await post('requests.xml', body(10))).statusCode).toBe(200);
    // The FixMyStreet key has its own bucket.
    expect((await post('requests.xml', perlQueryForm(streetlightReport(11)))).statusCode).toBe(200);
  });

  it('should not accept the demo key of the config file inside Lambda', async () => {
    const demo = perlQueryForm(
      streetlightReport().map(([k, v]) => (k === 'api_key' ? [k, 'cityloop-open311-demo-key'] : [k, v])) as [
        string,
        string,
      ][],
    );
    expect((await post('requests.xml', demo)).statusCode).toBe(200);
    h = await harness({ env: { AWS_LAMBDA_FUNCTION_NAME: 'open311' } });
    expect((await post('requests.xml', demo)).statusCode).toBe(403);
  });
});
