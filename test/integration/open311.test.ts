/**
 * Open311 on the local stack, over real HTTP, as FixMyStreet calls it: post → 受理编号 + token → the request in
 * GET requests/{id} and GET requests, the case in the department's SQS queue, a status change in CityLoop in
 * servicerequestupdates, and a FixMyStreet comment recorded on the case.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
import { toShanghaiIso } from '#core/ids.ts';
import type { LocalStack } from '#local/stack.ts';
import { eventually, http, startTestStack } from '../helpers/local-stack.ts';
import {
  commentUpdate,
  FMS_API_KEY,
  FMS_HEADERS,
  FMS_JURISDICTION,
  manholeReport,
  perlQueryForm,
  streetlightReport,
  updatesQuery,
} from '../unit/open311/fixtures/fixmystreet.ts';
import { checkXml } from '../unit/open311/spec-shapes.ts';

describe('Local stack: Open311 (FixMyStreet) to a department queue and back', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  let store: DynamoStore;
  let id = '';
  const startedAt = Date.now();
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

  beforeAll(async () => {
    // What `OPEN311_API_KEY=... npm start` does.
    process.env.OPEN311_API_KEY = FMS_API_KEY;
    ({ stack, cleanup } = await startTestStack());
    store = new DynamoStore(
      new DynamoDBClient({ endpoint: stack.info.endpoints.dynamodb, region: stack.info.region, credentials }),
      stack.info.tableName,
    );
  });
  afterAll(async () => {
    await cleanup?.();
    delete process.env.OPEN311_API_KEY;
  });

  const post = (path: string, body: string) => http(stack, 'POST', `/open311/v2/${path}`, body, FMS_HEADERS);

  it('should serve discovery and services, and list itself in the npm start banner', async () => {
    const d = await http(stack, 'GET', '/open311/v2/discovery.xml');
    expect(checkXml('discovery', d.text).endpoints[0].url).toBe(`${stack.info.url}/open311/v2`);
    const s = await http(stack, 'GET', `/open311/v2/services.json?jurisdiction_id=${FMS_JURISDICTION}`);
    expect(s.json.find((x: { service_code: string }) => x.service_code === 'SZ-01')).toBeTruthy();
    expect(stack.info.services.open311).toContain('/open311/v2/discovery.xml');
  });

  it('should accept a FixMyStreet report and answer the 受理编号 and a token', async () => {
    // Act
    const res = await post('requests.xml', perlQueryForm(streetlightReport()));
    // Assess
    expect(res.status, res.text).toBe(200);
    const [posted] = checkXml('posted', res.text);
    id = posted.service_request_id;
    expect(id).toMatch(/^\d{14}$/);
    const tok = await http(stack, 'GET', `/open311/v2/tokens/${posted.token}.xml`);
    expect(checkXml('tokens', tok.text)).toEqual([{ service_request_id: id, token: posted.token }]);
  });

  it('should show the request by id, dispatched, without personal data', async () => {
    const req = await eventually(async () => {
      const r = await http(stack, 'GET', `/open311/v2/requests/${id}.json`);
      return r.json?.[0]?.agency_responsible ? r : undefined;
    });
    expect(req.json[0]).toMatchObject({ service_request_id: id, status: 'open', service_code: 'SZ-01' });
    expect(req.json[0].agency_responsible).toBe('区城市管理和综合执法局');
    expect(req.text).not.toMatch(/li\.lei@example\.com|13800138000/);
  });

  it('should put the case in the department queue (SQS ReceiveMessage)', async () => {
    await stack.drain();
    const sqs = new SQSClient({ endpoint: stack.info.endpoints.sqs, region: stack.info.region, credentials });
    const queueUrl = stack.info.queues['dept-chengguan'];
    const found = await eventually(async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}')).find((e) => e.detail?.trackingNo === id);
    });
    expect(found).toMatchObject({
      'detail-type': 'Case.Dispatched',
      detail: { department: 'chengguan', channel: 'open311' },
    });
  });

  it('should list the request in GET requests', async () => {
    const listed = await eventually(
      async () => {
        const r = await http(
          stack,
          'GET',
          `/open311/v2/requests.xml?${perlQueryForm([
            ['jurisdiction_id', FMS_JURISDICTION],
            ['service_code', 'SZ-01'],
          ])}`,
        );
        const items = checkXml('requests', r.text);
        return items.some((x: { service_request_id: string }) => x.service_request_id === id) ? items : undefined;
      },
      15_000,
      400,
    );
    expect(listed.length).toBeGreaterThan(0);
  });

  it('should show a status change made in CityLoop in servicerequestupdates', async () => {
    // Prepare: the department resolves and the centre closes, as the lifecycle would write it (one versioned write).
    const c = (await store.getCase(id)) as Case;
    const at = toShanghaiIso(new Date());
    const closed: Case = {
      ...c,
      state: 'closed',
      version: c.version + 1,
      updatedAt: at,
      history: [
        ...c.history,
        {
          at,
          version: c.version + 1,
          actor: { role: 'supervisor', id: 'sup-1' },
          action: 'approveClosure',
          from: c.state,
          to: 'closed',
          department: c.department ?? null,
          text: '路灯已修复，恢复照明',
          visibility: 'public',
        },
      ],
    };
    expect(await store.replaceCase(closed, c.version)).toBe(true);
    // Act
    const start = new Date(startedAt - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const end = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const updates = await eventually(
      async () => {
        const r = await http(stack, 'GET', `/open311/v2/servicerequestupdates.xml?${updatesQuery(start, end)}`);
        const list = checkXml('updates', r.text).filter(
          (u: { service_request_id: string }) => u.service_request_id === id,
        );
        return list.some((u: { status: string }) => u.status === 'CLOSED') ? list : undefined;
      },
      15_000,
      400,
    );
    // Assess
    expect(updates.at(-1)).toMatchObject({
      status: 'CLOSED',
      description: '路灯已修复，恢复照明',
      external_status_code: 'closed',
    });
    const req = await http(stack, 'GET', `/open311/v2/requests/${id}.json`);
    expect(req.json[0]).toMatchObject({ status: 'closed', status_notes: '路灯已修复，恢复照明' });
  });

  it('should refuse a comment on the closed request with the reason, and record one on an open request', async () => {
    const refused = await post('servicerequestupdates.xml', perlQueryForm(commentUpdate(id, 901)));
    expect(refused.status).toBe(400);
    expect(checkXml('errors', refused.text)[0].description).toMatch(/^CASE_CONCLUDED/);
    // A second report, still open, takes the comment.
    const other = checkXml('posted', (await post('requests.xml', perlQueryForm(manholeReport()))).text)[0];
    const otherId = other.service_request_id;
    const caseId = await eventually(async () => {
      const report = await store.getReportByTrackingNo(otherId);
      const c = report && (await store.getCase(report.caseId ?? otherId));
      return c?.caseId;
    });
    const ok = await post('servicerequestupdates.xml', perlQueryForm(commentUpdate(otherId, 902)));
    expect(ok.status, ok.text).toBe(200);
    expect(checkXml('updatePosted', ok.text)[0].update_id).toMatch(new RegExp(`^${otherId}-\\d+$`));
    const c = await store.getCase(caseId);
    expect(c?.history.at(-1)).toMatchObject({ action: 'citizenUpdate', actor: { role: 'citizen' } });
  });

  it('should refuse bad calls over HTTP with the spec error list', async () => {
    const noKey = await post('requests.xml', perlQueryForm(streetlightReport().filter(([k]) => k !== 'api_key')));
    expect(noKey.status).toBe(403);
    checkXml('errors', noKey.text);
    const wrongPlace = await http(stack, 'GET', '/open311/v2/services.xml?jurisdiction_id=sfgov.org');
    expect(wrongPlace.status).toBe(404);
    const json = await http(stack, 'POST', '/open311/v2/requests.json', '{}', { 'content-type': 'application/json' });
    expect(json.status).toBe(415);
    expect(json.json[0].code).toBe(415);
  });
});
