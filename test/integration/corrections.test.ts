/**
 * Supervisors' category decisions become training rows on the local stack: a request the classifier cannot place
 * waits in 人工分拨, the supervisor assigns a category, a routed case is 改派 to another category, and
 * `cityloop corrections` exports both as `text,label` rows that `cityloop train` reads (contacts masked).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelledCsv } from '#core/classify/csv.ts';
import type { LocalStack } from '#local/stack.ts';
import { cityloop, eventually, http, startTestStack } from '../helpers/local-stack.ts';

const SUPERVISOR = { 'x-api-key': 'local-supervisor-001' };

describe('Local stack: supervisors’ corrections as training examples', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ stack, dataDir, cleanup } = await startTestStack());
  });
  afterAll(async () => {
    await cleanup?.();
  });

  async function submit(key: string, title: string, text: string): Promise<string> {
    const posted = await http(
      stack,
      'POST',
      '/api/requests',
      { title, text, citizen: { phone: '13800138000' } },
      { 'idempotency-key': key },
    );
    expect(posted.status).toBe(202);
    return posted.json.trackingNo as string;
  }

  it('should keep 人工分拨 and 改派 categories as labelled rows and export them for training', async () => {
    // Nothing in this text names a matter: triage sends it to 人工分拨.
    const vague = await submit('corr-1', '咨询一个情况', '我想反映一下那个事情，请联系我13912345678，谢谢');
    const waiting = await eventually(async () => {
      const q = await http(stack, 'GET', '/api/supervisor/triage', undefined, SUPERVISOR);
      return q.json?.cases?.find((c: { trackingNo: string }) => c.trackingNo === vague);
    });
    expect(waiting.state).toBe('triage');
    const assigned = await http(
      stack,
      'POST',
      `/api/supervisor/cases/${vague}/triage`,
      { department: 'shuiwu', category: 'GY-02' },
      SUPERVISOR,
    );
    expect(assigned.status).toBe(200);

    // A case routed automatically, then moved to another matter by the centre (改派 with a category).
    const routed = await submit('corr-2', '路灯不亮', '和平路88号门口路灯坏了一个星期，晚上很黑');
    await eventually(async () => (await http(stack, 'GET', `/api/requests/${routed}`)).json?.status === 'dispatched');
    const moved = await http(
      stack,
      'POST',
      `/api/supervisor/cases/${routed}/redispatch`,
      { department: 'gongdian', category: 'GY-05', reason: '属供电设施' },
      SUPERVISOR,
    );
    expect(moved.status).toBe(200);
    // 改派 to another department only (same category): not a training example.
    const again = await http(
      stack,
      'POST',
      `/api/supervisor/cases/${routed}/redispatch`,
      { department: 'chengguan', reason: '再次改派' },
      SUPERVISOR,
    );
    expect(again.status).toBe(200);

    const out = join(dataDir, 'corrections.csv');
    const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const res = await cityloop(['corrections', '--from', day, '--to', day, '--out', out], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(res.stderr).toContain('已导出 2 条样本');
    expect(res.code).toBe(0);
    const csv = readFileSync(out, 'utf8');
    expect(csv).not.toContain('13912345678');
    const rows = readLabelledCsv(Buffer.from(csv), {});
    expect(rows).toHaveLength(2);
    const byText = (s: string) => rows.find((r) => r.text.includes(s));
    // GY-0x leaves are covered by the 城乡建设 model label (via their parent 水电气供应).
    expect(byText('那个事情')).toMatchObject({ label: '城乡建设' });
    expect(byText('路灯坏了')).toMatchObject({ label: '城乡建设' });
    expect(csv.split('\n')[0]).toBe(
      'text,label,category,predicted_label,predicted_category,confidence,corrected,action,case_id,at',
    );
    expect(csv).toContain(',GY-02,');
    expect(csv).toContain(',GY-05,');
    expect(csv).toMatch(/,redispatch,/);
    expect(csv).toMatch(/,assignTriage,/);

    const only = await cityloop(['corrections', '--from', day, '--to', day, '--only-corrected'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(only.code).toBe(0);
    // Both were real corrections: the 人工分拨 case had no category, the 改派 changed SZ-01 → GY-05.
    expect(readLabelledCsv(Buffer.from(only.stdout), {})).toHaveLength(2);
  });

  it('should refuse a bad period with a usage error', async () => {
    const res = await cityloop(['corrections', '--from', '2026-13-01', '--to', '2026-11-30'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('YYYY-MM-DD');
  });
});
