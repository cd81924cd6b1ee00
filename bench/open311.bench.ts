/**
 * Open311 channel CPU on one core: the form parser on a FixMyStreet body, the request mapping, a whole POST through
 * the handler with in-memory ports, XML/JSON rendering of a full page (1000 requests), and deriving the updates of
 * a 181-day look-back from in-memory cases (the per-poll CPU of servicerequestupdates; the Queries are I/O and are
 * counted, not timed).
 */
import { checkAttributes } from '#channels/open311/attributes.ts';
import { type CaseFeed, collectUpdates, requestDayKeys } from '#channels/open311/feed.ts';
import { parseForm } from '#channels/open311/form.ts';
import { TokenBuckets } from '#channels/open311/rate-limit.ts';
import { renderRequests } from '#channels/open311/render.ts';
import { parseServiceRequest } from '#channels/open311/request.ts';
import { requestFromCase } from '#channels/open311/view.ts';
import type { Case } from '#core/case.ts';
import type { TrackingNo } from '#core/ids.ts';
import { toShanghaiIso } from '#core/ids.ts';
import type { Accepted } from '#core/intake/accept.ts';
import type { StoredReport } from '#core/ports.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { handleOpen311 } from '#functions/open311/api.ts';
import { loadOpen311Settings } from '#functions/open311/config.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const KEY = 'bench-open311-key-000000';

function fmsBody(i: number): string {
  const pairs: [string, string][] = [
    ['jurisdiction_id', '12345.pingshan.example.gov.cn'],
    ['api_key', KEY],
    ['email', 'li.lei@example.com'],
    [
      'description',
      `title: 和平路${i}号路灯不亮\n\ndetail: 和平路${i}号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。\n\nurl: https://fixmystreet.example.org/report/${i}\n\nSubmitted via FixMyStreet\n`,
    ],
    ['service_code', 'SZ-01'],
    ['first_name', 'Lei'],
    ['last_name', 'Li'],
    ['phone', '13800138000'],
    ['lat', '22.708123'],
    ['long', '114.346789'],
    ['attribute[fault]', 'off'],
    ['attribute[fault]', 'flicker'],
    ['attribute[pole_number]', `PS-${i}`],
  ];
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`).join('&');
}

async function measure(iterations: number, fn: (i: number) => unknown): Promise<{ ops: number; us: number }> {
  const warm = Math.min(200, iterations);
  for (let i = 0; i < warm; i++) await fn(i);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) await fn(i);
  const ms = performance.now() - t0;
  return { ops: Math.round((iterations / ms) * 1000), us: Number(((ms * 1000) / iterations).toFixed(1)) };
}

function benchCase(i: number, receivedMs: number): Case {
  const at = toShanghaiIso(new Date(receivedMs));
  const id = `2025${String(i).padStart(10, '0')}`;
  return {
    caseId: id,
    trackingNo: id,
    state: 'signed',
    version: 3,
    department: 'chengguan',
    category: 'SZ-01',
    nature: '求助',
    urgency: 'normal',
    channel: 'open311',
    title: '路灯不亮',
    text: `和平路${i}号3栋门口的路灯坏了，联系13800138000`,
    location: { address: `和平路${i}号3栋502`, lat: 22.7, lon: 114.3, datum: 'WGS84' },
    citizen: { phone: '+8613800138000' },
    receivedAt: at,
    updatedAt: at,
    classification: { confidence: 0.9, decision: 'auto', reason: 'x', category: 'SZ-01', categoryName: '路灯照明' },
    reportCount: 1,
    reporters: [{ trackingNo: id, channel: 'open311', receivedAt: at, relation: 'new' }],
    announcedVersion: 3,
    history: [
      {
        at,
        actor: { role: 'system', id: 'open311' },
        action: 'receive',
        to: 'received',
        text: '经Open311 接口受理',
        visibility: 'public',
      },
      {
        at,
        actor: { role: 'system', id: 'triage' },
        action: 'dispatch',
        to: 'dispatched',
        text: '已派单至区城市管理和综合执法局',
        visibility: 'public',
      },
      { at, actor: { role: 'department', id: 's' }, action: 'sign', to: 'signed', visibility: 'public' },
    ],
  };
}

const suite: BenchSuite = async ({ quick }) => {
  setLogSink(() => undefined);
  const n = quick ? 1_000 : 10_000;
  const settings = await loadOpen311Settings({ OPEN311_API_KEY: KEY });
  const now = new Date('2025-11-28T02:00:00Z');
  const bodies = Array.from({ length: 64 }, (_, i) => fmsBody(i));
  const parsed = parseForm(bodies[0] ?? '');
  if (!parsed.ok) throw new Error('bench setup: form refused');
  const defs = settings.catalog.get('SZ-01')?.attributes ?? [];

  const form = await measure(n, (i) => parseForm(bodies[i % 64] ?? ''));
  const attrs = await measure(n, () => checkAttributes(defs, parsed.form.attributes));
  const mapping = await measure(n, () =>
    parseServiceRequest(parsed.form, { catalog: settings.catalog, clientId: 'env', now }),
  );

  // A whole POST: in-memory report store (accept = idempotent put), no network.
  const reports = new Map<string, StoredReport>();
  let seq = 0;
  const deps = {
    clock: { now: () => now },
    settings,
    limiter: new TokenBuckets(() => 0),
    accept: async (request: StoredReport['request']): Promise<Accepted> => {
      const idemKey = `${request.channel}#${request.channelMessageId}`;
      const existing = reports.get(idemKey);
      if (existing) return { trackingNo: existing.trackingNo, created: false, report: existing };
      const report: StoredReport = {
        trackingNo: `20251128${String(++seq).padStart(6, '0')}` as TrackingNo,
        idemKey,
        request,
        acceptedAt: request.receivedAt,
      };
      reports.set(idemKey, report);
      return { trackingNo: report.trackingNo, created: true, report };
    },
    store: {
      getReportByTrackingNo: async () => undefined,
      getReportByIdemKey: async (k: string) => reports.get(k),
      getCase: async () => undefined,
      replaceCase: async () => true,
    },
    feed: { requestedOn: async () => [], changedSince: async () => [] },
    blobs: { put: async () => undefined, get: async () => undefined },
    departmentName: () => '区城市管理和综合执法局',
  };
  settings.clients[0] = {
    ...(settings.clients.find((c) => c.id === 'env') ?? settings.clients[0]!),
    rate: { perMinute: 1e9, burst: 1e9 },
  };
  let failed = 0;
  const post = await measure(n, async (i) => {
    const res = await handleOpen311(
      {
        version: '2.0',
        routeKey: 'POST /open311/v2/{proxy+}',
        rawPath: '/open311/v2/requests.xml',
        rawQueryString: '',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        pathParameters: { proxy: 'requests.xml' },
        requestContext: { http: { method: 'POST', sourceIp: '127.0.0.1' } } as never,
        isBase64Encoded: false,
        body: fmsBody(i),
      },
      deps,
    );
    if (res.statusCode !== 200) failed++;
  });

  const ctx = {
    catalog: settings.catalog,
    departmentName: () => '区城市管理和综合执法局',
    publish: settings.config.publish,
  };
  const page = Array.from({ length: 1000 }, (_, i) => requestFromCase(benchCase(i, now.getTime() - i * 60_000), ctx));
  const pages = quick ? 20 : 100;
  const xml = await measure(pages, () => renderRequests(page, 'xml'));
  const json = await measure(pages, () => renderRequests(page, 'json'));

  // servicerequestupdates: 181 day partitions, 5,000 cases changed in the hour polled.
  const changed = Array.from({ length: 5000 }, (_, i) =>
    benchCase(100_000 + i, now.getTime() - (i % 180) * 86_400_000),
  );
  for (const c of changed)
    c.history.push({
      at: toShanghaiIso(now),
      actor: { role: 'department', id: 's' },
      action: 'resolve',
      to: 'resolved',
      text: '已修复',
      visibility: 'public',
    });
  const byDay = new Map<string, Case[]>();
  for (const c of changed) {
    const k = requestDayKeys(c).reqDayPk ?? '';
    byDay.set(k, [...(byDay.get(k) ?? []), c]);
  }
  let queries = 0;
  const feed: CaseFeed = {
    requestedOn: async () => [],
    changedSince: async (day) => {
      queries++;
      return byDay.get(`REQDAY#${day}`) ?? [];
    },
  };
  let found = 0;
  const window = { fromMs: now.getTime() - 3600_000, toMs: now.getTime() + 1000, page: 1, pageSize: 100_000 };
  const updates = await measure(quick ? 5 : 20, async () => {
    queries = 0;
    found = (await collectUpdates(feed, window, { lookbackDays: 180, scope: 'open311' })).length;
  });

  const table: BenchTable = {
    title: 'Open311 channel: parse, map, answer (one core)',
    columns: ['operation', 'ops/s', 'µs/op', 'target'],
    rows: [
      ['parseForm (FixMyStreet body, 13 fields)', form.ops, form.us, '≥ 50,000/s'],
      ['checkAttributes (SZ-01 definition)', attrs.ops, attrs.us, '≥ 50,000/s'],
      ['parseServiceRequest → IntakeRequest draft', mapping.ops, mapping.us, '≥ 20,000/s'],
      ['POST requests.xml through the handler (in-memory ports)', post.ops, post.us, '≥ 2,000/s'],
      ['render 1000 requests as XML (one full page)', xml.ops, xml.us, '≤ 50 ms/page'],
      ['render 1000 requests as JSON (one full page)', json.ops, json.us, '≤ 20 ms/page'],
      [`servicerequestupdates: ${found} updates from 181 day queries`, updates.ops, updates.us, '≤ 200 ms/poll CPU'],
    ],
    notes: [
      `${n} iterations (rendering ${pages}) after warm-up. POST: ${failed} non-200 answers (expected 0).`,
      `Updates: ${queries} Queries per poll (one per requested day of the look-back); on DynamoDB an empty day costs one`,
      'minimal read. The Query latency itself is I/O and not part of these figures.',
    ],
  };
  return [table];
};

export default suite;
