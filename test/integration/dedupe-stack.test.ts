import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import { wgs84ToGcj02 } from '#channels/wechat/gcj02.ts';
import { setLogSink } from '#functions/lib/log.ts';
import type { LocalStack } from '#local/stack.ts';
import { eventually, http, startTestStack } from '../helpers/local-stack.ts';
import { type IncidentDraft, threeIncidents } from '../unit/dedupe/three-incidents.ts';

const DEPARTMENT = { water: 'shuiwu', lights: 'chengguan', noise: 'huanbao' } as const;

async function submit(stack: LocalStack, d: IncidentDraft): Promise<string> {
  const body = { title: d.title, text: d.text, citizen: { phone: d.phone }, location: d.location };
  const res =
    d.channel === 'web'
      ? await http(stack, 'POST', '/api/requests', body, { 'idempotency-key': d.key })
      : await http(
          stack,
          'POST',
          '/api/agent/reports',
          { ...body, clientId: d.uuid },
          { 'x-api-key': 'local-agent-001' },
        );
  expect(res.status, res.text).toBe(202);
  return res.json.trackingNo as string;
}

/** Every message waiting in a queue (received, so they stay invisible for the rest of the test). */
async function receiveAll(sqs: SQSClient, url: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
    );
    if (!r.Messages?.length) break;
    for (const m of r.Messages) out.push(JSON.parse(m.Body ?? '{}'));
  }
  return out;
}

describe('Local stack: a storm of 200 reports about 3 incidents', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  const drafts = threeIncidents(200);
  const trackingNos: string[] = [];

  beforeAll(async () => {
    ({ stack, cleanup } = await startTestStack());
    // The handlers run in this process: keep their log lines out of the test output.
    setLogSink(() => undefined);
    // Web and hotline (walk-in) reports, 4 citizens at a time, while triage consumes the intake queue in batches.
    for (let i = 0; i < drafts.length; i += 4) {
      trackingNos.push(...(await Promise.all(drafts.slice(i, i + 4).map((d) => submit(stack, d)))));
    }
    await eventually(async () => {
      const last = await http(stack, 'GET', `/api/requests/${trackingNos.at(-1)}`);
      return last.json?.department ? true : undefined;
    }, 25_000);
    await stack.drain();
  }, 60_000);
  afterAll(async () => {
    await cleanup?.();
  });

  it('should send exactly one message per incident to the departments, and none for merged reports', async () => {
    // Prepare
    const sqs = new SQSClient({ endpoint: stack.info.endpoints.sqs, region: stack.info.region });
    // Act
    const byQueue: Record<string, Record<string, unknown>[]> = {};
    for (const [id, url] of Object.entries(stack.info.queues)) {
      if (id.startsWith('dept-') && !id.endsWith('-dlq')) byQueue[id] = await receiveAll(sqs, url);
    }
    // Assess
    const all = Object.values(byQueue).flat();
    expect(all).toHaveLength(3);
    for (const dept of Object.values(DEPARTMENT)) {
      expect(byQueue[`dept-${dept}`], dept).toHaveLength(1);
      expect(byQueue[`dept-${dept}`]![0]).toMatchObject({ 'detail-type': 'Case.Dispatched' });
    }
    // 热点 reached the supervisors: water has ~100 citizens, so 5, 20 and maybe 100 were crossed.
    const supervisors = await receiveAll(sqs, stack.info.queues.supervisors!);
    const grew = supervisors.filter((m) => m['detail-type'] === 'Case.IncidentGrew');
    expect(grew.length).toBeGreaterThanOrEqual(6);
  });

  it('should put every report on its incident case with the right reporter counts', async () => {
    // Prepare
    const store = new DynamoStore(
      new DynamoDBClient({ endpoint: stack.info.endpoints.dynamodb, region: stack.info.region }),
      stack.info.tableName,
    );
    const caseOf = new Map<string, Set<string>>();
    // Act
    for (const [i, tn] of trackingNos.entries()) {
      const report = await store.getReportByTrackingNo(tn);
      const caseId = report?.caseId ?? tn;
      const set = caseOf.get(drafts[i]!.incident) ?? new Set();
      set.add(caseId);
      caseOf.set(drafts[i]!.incident, set);
    }
    // Assess
    for (const [incident, ids] of caseOf) {
      expect(ids.size, incident).toBe(1);
      const c = await store.getCase([...ids][0]!);
      const citizens = new Set(drafts.filter((d) => d.incident === incident).map((d) => d.phone)).size;
      expect(c?.department).toBe(DEPARTMENT[incident as keyof typeof DEPARTMENT]);
      expect(c?.reporterCount, incident).toBe(citizens);
      expect(c?.reportCount, incident).toBe(citizens);
    }
  });

  it("should show a merged report's citizen the case it joined", async () => {
    // Prepare: a report that did not open its case.
    const store = new DynamoStore(
      new DynamoDBClient({ endpoint: stack.info.endpoints.dynamodb, region: stack.info.region }),
      stack.info.tableName,
    );
    let merged: { tn: string; caseId: string; i: number } | undefined;
    for (const [i, tn] of trackingNos.entries()) {
      const r = await store.getReportByTrackingNo(tn);
      if (r?.caseId && r.caseId !== tn && r.relation === 'incident') {
        merged = { tn, caseId: r.caseId, i };
        break;
      }
    }
    expect(merged).toBeDefined();
    // Act
    const view = await http(stack, 'GET', `/api/requests/${merged!.tn}`);
    // Assess: its own tracking number and words, the joined case's status, department and count.
    expect(view.status).toBe(200);
    expect(view.json).toMatchObject({
      trackingNo: merged!.tn,
      status: 'dispatched',
      department: { id: DEPARTMENT[drafts[merged!.i]!.incident] },
    });
    expect(view.json.reportCount).toBeGreaterThan(1);
  });

  it('should suggest the incident case to an agent typing a report of it, and refuse anonymous callers', async () => {
    // Prepare
    const draft = { text: '和平路12号这边水管爆了，到处是水', location: { address: '和平路12号' } };
    // Act
    const res = await http(stack, 'POST', '/api/agent/duplicates', draft, { 'x-api-key': 'local-agent-002' });
    const anonymous = await http(stack, 'POST', '/api/agent/duplicates', draft);
    // Assess
    expect(res.status, res.text).toBe(200);
    expect(res.json.suggestions[0]).toMatchObject({
      relation: 'incident',
      status: 'open',
      stateLabel: '派单',
      department: { id: 'shuiwu' },
    });
    expect(res.json.suggestions[0].reporterCount).toBeGreaterThan(20);
    expect(res.json.suggestions[0].title).not.toMatch(/1390000\d{4}/);
    expect(anonymous.status).toBe(401);
  });

  it('should tell a citizen in the mini-program that the problem is already reported nearby, without its words', async () => {
    // Prepare: a session from the fake WeChat server; wx.getLocation answers in GCJ-02.
    const login = await http(stack, 'POST', '/channels/wechat/miniprogram/login', { code: 'test-code-003' });
    expect(login.status).toBe(200);
    const here = wgs84ToGcj02({ lat: 22.7031, lon: 114.3655 });
    const draft = { text: '这里的路灯都不亮了', location: { latitude: here.lat, longitude: here.lon, type: 'gcj02' } };
    // Act
    const res = await http(stack, 'POST', '/channels/wechat/miniprogram/duplicates', draft, {
      authorization: `Bearer ${login.json.token}`,
    });
    const noSession = await http(stack, 'POST', '/channels/wechat/miniprogram/duplicates', draft);
    // Assess: the street-light case, a few metres away once the datum is converted back.
    expect(res.status, `${res.text} ${login.text}`).toBe(200);
    expect(res.json.suggestions[0]).toMatchObject({ statusLabel: '已派单', yours: false });
    expect(res.json.suggestions[0].distanceMeters).toBeLessThan(150);
    expect(res.json.suggestions[0].reporterCount).toBeGreaterThan(20);
    expect(res.json.suggestions[0].title).toBeUndefined();
    expect(noSession.status).toBe(401);
  });
});
