/**
 * Departments on the local stack without their own system (`npx cityloop dept ...`) and with one (the typed client
 * `clients/department.ts` consuming the department queue and calling the department API).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLogSink } from '#functions/lib/log.ts';
import type { LocalStack } from '#local/stack.ts';
import { run } from '../../cli/commands/dept.ts';
import { type CaseEventMessage, DepartmentApiError, DepartmentClient } from '../../clients/department.ts';
import { cityloop, eventually, http, startTestStack } from '../helpers/local-stack.ts';

describe('Local stack: department work from the CLI and the typed client', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ stack, dataDir, cleanup } = await startTestStack());
    // The handlers run in this process: keep their log lines out of the captured CLI output.
    setLogSink(() => undefined);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  async function submit(key: string, text: string): Promise<string> {
    const posted = await http(
      stack,
      'POST',
      '/api/requests',
      { title: '路灯不亮', text, citizen: { phone: '13800138000' } },
      { 'idempotency-key': key },
    );
    const tn = posted.json.trackingNo as string;
    await eventually(async () => (await http(stack, 'GET', `/api/requests/${tn}`)).json?.status === 'dispatched');
    return tn;
  }

  /** Runs `cityloop dept ...` in this process (the real command module), capturing its output. */
  async function dept(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      return { code: await run(args), stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it('should list, sign and show a case with `cityloop dept`, refusing without a key', async () => {
    // Prepare
    const tn = await submit('cli-flow-0001', '和平路88号门口的路灯坏了，请尽快维修。');
    const key = ['--api-key', 'local-dept-chengguan'];
    // Act
    const listed = await dept(['list', '--state', 'dispatched', '--json', ...key]);
    // The real binary once, as a department clerk would run it (key from the environment).
    const signed = await cityloop(['dept', 'sign', tn, '--text', '已接单', '--expected-version', '1', '--json'], {
      CITYLOOP_DATA_DIR: dataDir,
      CITYLOOP_API_KEY: 'local-dept-chengguan',
    });
    const shown = await dept(['show', tn, ...key]);
    const noKey = await dept(['show', tn]);
    const foreign = await dept(['show', tn, '--api-key', 'local-dept-zhujian']);
    const badDue = await dept(['extend', tn, '--reason', 'x', '--due', 'tomorrow', ...key]);
    // Assess
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).caseId),
    ).toContain(tn);
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({
      case: { state: 'signed', version: 2 },
      transition: { action: 'sign' },
    });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`【${tn}】路灯不亮（签收，版本 2）`);
    expect(shown.stdout).toContain('+8613800138000');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--api-key');
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('NOT_FOUND (404)');
    expect(badDue.code).toBe(2);
  });

  it('should let a department system consume its queue and report back through the API', async () => {
    // Prepare
    const tn = await submit('client-flow-0001', '和平路99号的路灯不亮。');
    const client = new DepartmentClient({
      apiUrl: stack.info.url,
      apiKey: 'local-dept-chengguan',
      queueUrl: stack.info.queues['dept-chengguan']!,
      sqs: new SQSClient({ endpoint: stack.info.endpoints.sqs, region: stack.info.region }),
    });
    const events: CaseEventMessage[] = [];
    // Act: sign every new case the queue brings.
    await eventually(async () => {
      await client.consume(
        async (e) => {
          events.push(e);
          if (e.detailType === 'Case.Dispatched' && e.state === 'dispatched') {
            await client.sign(e.caseId, { expectedVersion: e.version }).catch((err) => {
              // The CLI test signed its own case already.
              if (!(err instanceof DepartmentApiError && err.code === 'CONFLICT')) throw err;
            });
          }
        },
        { maxBatches: 5, waitSeconds: 1 },
      );
      return events.some((e) => e.caseId === tn);
    });
    const resolved = await client.resolve(tn, { text: '已更换灯具' });
    // Assess
    expect(events.find((e) => e.caseId === tn)).toMatchObject({
      detailType: 'Case.Dispatched',
      trackingNo: tn,
      version: 1,
    });
    expect(resolved.case).toMatchObject({ state: 'resolved', version: 3 });
    expect((await client.get(tn)).history.map((h) => h.action)).toEqual(['receive', 'dispatch', 'sign', 'resolve']);
    await expect(client.resolve(tn, { text: 'again' })).rejects.toMatchObject({
      status: 409,
      code: 'ILLEGAL_TRANSITION',
    });
  });
});
