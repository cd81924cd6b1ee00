import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack.ts';
import { cityloop, eventually, http, startTestStack } from '../helpers/local-stack.ts';

const request = {
  title: '路灯不亮',
  text: '和平路88号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。',
  citizen: { phone: '13800138000' },
  location: { address: '和平路88号' },
};

describe('Local stack: web request to a department queue', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ stack, dataDir, cleanup } = await startTestStack());
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('should serve the citizen page', async () => {
    const res = await http(stack, 'GET', '/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('12345 市民诉求');
  });

  it('should accept a request, dispatch it, and let the department pull it exactly once', async () => {
    // Act
    const posted = await http(stack, 'POST', '/api/requests', request, { 'idempotency-key': 'test-key-0001' });
    // Assess: accepted with a tracking number
    expect(posted.status).toBe(202);
    const tn = posted.json.trackingNo as string;
    expect(tn).toMatch(/^\d{14}$/);
    // The same submission again (a double click) is the same report.
    const again = await http(stack, 'POST', '/api/requests', request, { 'idempotency-key': 'test-key-0001' });
    expect(again.json).toMatchObject({ trackingNo: tn, duplicate: true });

    const status = await eventually(async () => {
      const r = await http(stack, 'GET', `/api/requests/${tn}`);
      return r.json?.department ? r.json : undefined;
    });
    expect(status).toMatchObject({ trackingNo: tn, status: 'dispatched', department: { id: 'chengguan' } });
    expect(status.department.name).toBe('区城市管理和综合执法局');
    // Citizens see no staff ids and no contact details.
    expect(JSON.stringify(status)).not.toMatch(/13800138000|triage"|actor/);

    await stack.drain();
    const pulled = await cityloop(['dept', 'pull', '--department', 'chengguan', '--json', '--wait', '1'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(pulled.code).toBe(0);
    const lines = pulled.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.trackingNo === tn)).toHaveLength(1);
    expect(lines[0]).toMatchObject({ trackingNo: tn, department: 'chengguan', title: '路灯不亮' });
    // Pulled messages are deleted: a second pull finds nothing.
    const second = await cityloop(['dept', 'pull', '--department', 'chengguan', '--json', '--wait', '1'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(second.stdout.trim()).toBe('');
  });

  it('should accept the page form encoding too', async () => {
    const body = new URLSearchParams({
      title: '噪音扰民',
      text: '晚上十点以后工地还在施工，噪音很大',
      phone: '13900139000',
    });
    const res = await http(stack, 'POST', '/api/requests', body.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(202);
    expect(res.json.trackingNo).toMatch(/^\d{14}$/);
  });

  it.each([
    ['invalid JSON', '{"title": ', { 'content-type': 'application/json' }, 400, 'MALFORMED_JSON'],
    ['a JSON array', '[1,2]', { 'content-type': 'application/json' }, 400, 'MALFORMED_JSON'],
    ['missing fields', '{"title":"x"}', { 'content-type': 'application/json' }, 400, 'VALIDATION_FAILED'],
    ['a wrong content type', 'title=x', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a bad phone',
      JSON.stringify({ ...request, citizen: { phone: '12' } }),
      { 'content-type': 'application/json' },
      400,
      'INVALID_PHONE',
    ],
    [
      '1 MB of text',
      JSON.stringify({ ...request, text: '长'.repeat(350_000) }),
      { 'content-type': 'application/json' },
      413,
      'BODY_TOO_LARGE',
    ],
  ])('should refuse %s with a 4xx and a reason code', async (_name, body, headers, status, code) => {
    const res = await http(stack, 'POST', '/api/requests', body, headers);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
  });

  it('should answer unknown and malformed tracking numbers clearly', async () => {
    expect((await http(stack, 'GET', '/api/requests/20250101999999')).json.error.code).toBe('NOT_FOUND');
    expect((await http(stack, 'GET', '/api/requests/abc')).json.error.code).toBe('INVALID_TRACKING_NO');
  });
});

describe('Local stack: restart keeps cases', () => {
  it('should still know a case after `npm start` is restarted on the same data folder', async () => {
    // Prepare
    const first = await startTestStack();
    const posted = await http(first.stack, 'POST', '/api/requests', request, { 'idempotency-key': 'restart-key-01' });
    const tn = posted.json.trackingNo;
    await eventually(async () => (await http(first.stack, 'GET', `/api/requests/${tn}`)).json?.department);
    await first.stack.stop();
    // Act
    const second = await startTestStack({ dataDir: first.dataDir });
    try {
      const res = await http(second.stack, 'GET', `/api/requests/${tn}`);
      // Assess
      expect(res.json).toMatchObject({ trackingNo: tn, status: 'dispatched' });
      // The same channel message id after the restart is still the same report.
      const again = await http(second.stack, 'POST', '/api/requests', request, { 'idempotency-key': 'restart-key-01' });
      expect(again.json.trackingNo).toBe(tn);
    } finally {
      await second.cleanup();
    }
  });
});
