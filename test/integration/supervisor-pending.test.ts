/**
 * The supervisors' overview on the local stack sees every request waiting for them (the sparse `pending` index),
 * whatever the department's load: a department with more cases in hand than one read returns, and a 延期申请 on the
 * case that sorts last among them. Once the request is decided (approved or rejected), its case leaves the index.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { LocalStack } from '#local/stack.ts';
import { eventually, http, startTestStack } from '../helpers/local-stack.ts';
import { triagedCase } from '../unit/cases/fakes.ts';

const CHENGGUAN = { 'x-api-key': 'local-dept-chengguan' };
const SUPERVISOR = { 'x-api-key': 'local-supervisor-001' };
/** More cases in hand than the overview reads of a state (its default limit is 100). */
const IN_HAND = 220;

interface Summary {
  caseId: string;
  state: string;
  pending?: string | null;
}

describe('Local stack: the supervisors’ overview and the requests waiting for them', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  let db: DynamoDBClient;
  let tn = '';

  beforeAll(async () => {
    ({ stack, cleanup } = await startTestStack());
    db = new DynamoDBClient({
      endpoint: stack.info.endpoints.dynamodb,
      region: stack.info.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const store = new DynamoStore(db, stack.info.tableName);
    // 220 cases in hand at 城管, all due before anything opened today (written straight to the table: fast).
    const filler = Array.from({ length: IN_HAND }, (_, i) => {
      const c = triagedCase(`20250101${String(i + 1).padStart(6, '0')}`);
      const due = `2025-01-${String(1 + (i % 28)).padStart(2, '0')}T18:00:00.000+08:00`;
      return { ...c, state: 'signed' as const, deadlines: { resolveDue: due }, announcedVersion: c.version };
    });
    for (let i = 0; i < filler.length; i += 20) {
      await Promise.all(filler.slice(i, i + 20).map((c) => store.createCase(c)));
    }
    // One real case: submitted on the web, dispatched by triage, signed by 城管; it sorts last among the signed.
    const posted = await http(
      stack,
      'POST',
      '/api/requests',
      {
        title: '路灯不亮',
        text: '和平路88号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。',
        citizen: { phone: '13800138000' },
        location: { address: '和平路88号' },
      },
      { 'idempotency-key': 'supervisor-pending-0001' },
    );
    expect(posted.status).toBe(202);
    tn = posted.json.trackingNo as string;
    await eventually(async () => (await http(stack, 'GET', `/api/requests/${tn}`)).json?.status === 'dispatched');
    const signed = await http(stack, 'POST', `/api/dept/cases/${tn}/sign`, { text: '已安排班组' }, CHENGGUAN);
    expect(signed.status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await cleanup?.();
  });

  const overview = async (): Promise<{ cases: Summary[]; truncated: boolean }> => {
    const res = await http(stack, 'GET', '/api/supervisor/cases', undefined, SUPERVISOR);
    expect(res.status).toBe(200);
    return res.json;
  };
  const caseItem = async (): Promise<Record<string, unknown>> => {
    const out = await db.send(
      new GetItemCommand({
        TableName: stack.info.tableName,
        Key: marshall({ pk: `CASE#${tn}`, sk: 'CASE' }),
        ConsistentRead: true,
      }),
    );
    return unmarshall(out.Item ?? {});
  };
  /** 延期申请 by 城管, one day past the current due time. */
  const askForTime = async (): Promise<void> => {
    const detail = (await http(stack, 'GET', `/api/dept/cases/${tn}`, undefined, CHENGGUAN)).json;
    const newDueAt = new Date(Date.parse(detail.windows.dueAt) + 86_400_000).toISOString().replace('Z', '+00:00');
    const asked = await http(
      stack,
      'POST',
      `/api/dept/cases/${tn}/extension`,
      { reason: '需更换电缆，等待物资', newDueAt },
      CHENGGUAN,
    );
    expect(asked.status).toBe(200);
    expect(asked.json.case).toMatchObject({ state: 'signed', pending: 'extension' });
  };

  it('should show a 延期申请 behind more cases in hand than one read returns, and drop it once approved', async () => {
    // Prepare
    await askForTime();
    const item = await caseItem();
    // Act
    const seen = await overview();
    // Assess: the department's signed cases were cut (the case sorts after all of them); the request is there
    // anyway, once
    expect(String(item.gsi3sk) > `signed#2025-01-28T18:00:00.000+08:00#20250101${String(IN_HAND)}`).toBe(true);
    expect(seen.truncated).toBe(true);
    const signed = seen.cases.filter((c) => c.state === 'signed');
    expect(signed.filter((c) => c.caseId === tn)).toEqual([expect.objectContaining({ pending: 'extension' })]);
    // the 100 most urgent, and the one waiting for a supervisor
    expect(signed).toHaveLength(101);
    expect(item).toMatchObject({ pendPk: 'PEND#chengguan', pendSk: expect.stringMatching(new RegExp(`#${tn}$`)) });

    // Act: 延期批准
    const granted = await http(stack, 'POST', `/api/supervisor/cases/${tn}/extension/approve`, {}, SUPERVISOR);
    // Assess: the case left the pending index, and the overview has no request left on it
    expect(granted.status).toBe(200);
    const after = await caseItem();
    expect(after.version).toBe(Number(item.version) + 1);
    expect(after).not.toHaveProperty('pendPk');
    expect(after).not.toHaveProperty('pendSk');
    expect((await overview()).cases.filter((c) => c.caseId === tn && c.pending)).toEqual([]);
  });

  it('should drop a rejected request from the index too', async () => {
    // Prepare
    await askForTime();
    expect(await caseItem()).toHaveProperty('pendPk', 'PEND#chengguan');
    // Act: 延期驳回
    const refused = await http(
      stack,
      'POST',
      `/api/supervisor/cases/${tn}/extension/reject`,
      { reason: '请按原时限办理' },
      SUPERVISOR,
    );
    // Assess
    expect(refused.status).toBe(200);
    const item = await caseItem();
    expect(item).toMatchObject({ state: 'signed' });
    expect(item).not.toHaveProperty('pendPk');
    expect(item).not.toHaveProperty('pendSk');
  });
});
