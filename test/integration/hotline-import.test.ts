/**
 * `cityloop import --channel hotline` end to end through HTTP: the real CLI process posts to the agent API handler,
 * served on 127.0.0.1 by the local stack's own API Gateway adapter and API-key authorizer, over in-memory ports
 * (the full stack with the Connect replay is in hotline.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toShanghaiIso } from '#core/ids.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology } from '#core/topology.ts';
import { handleAgentApi } from '#functions/hotline/agent.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { compileRoute, matchRoute, readBody, toEvent, writeResult } from '#local/apigw.ts';
import { authorize, loadKeys } from '#local/auth.ts';
import { ROOT } from '#local/stack.ts';
import { cityloop } from '../helpers/local-stack.ts';
import { type Fakes, fakes } from '../unit/hotline/fakes.ts';

/** A day relative to today in Asia/Shanghai, YYYY-MM-DD (the CLI runs on the real clock). */
const day = (offset: number) => toShanghaiIso(new Date(Date.now() + offset * 86_400_000)).slice(0, 10);
const HEADER = '序号,编号,来源,姓名,电话,匿名,标题,内容,地址,性质,收件日期';
const ROWS = [
  `1,L-001,来信,张三,13800138000,,路灯不亮,"和平路88号门口的路灯坏了，晚上很黑。",和平路88号,求助,${day(-8)}`,
  `2,L-002,来信,李四,13900139000,,,"反映噪音：""工地""夜间施工",坪山大道1号,投诉,${day(-7)}`,
  '3,W-001,来访,,,是,,"来访咨询：',
  '办理居住证需要什么材料？",,咨询,',
  `4,L-003,来信,王五,,否,,没有联系方式的来信,,,${day(-7)}`,
  `5,L-004,来信,赵六,12,,,电话号码写错了,,,${day(-7)}`,
  '6,L-005,传真,钱七,13700137000,,,来源写错了,,,',
  '7,L-001,来信,张三,13800138000,,,同一封信又录了一遍,,,',
  '8,L-006,来信,孙八,13600136000,,,"引号没"写好",,,',
  `9,L-007,来信,周九,13500135000,,,收件日期在将来,,,${day(3)}`,
];

describe('CLI: cityloop import --channel hotline', () => {
  let server: Server;
  let url: string;
  let f: Fakes;
  let dir: string;

  beforeAll(async () => {
    setLogSink(() => undefined);
    const keys = loadKeys(join(ROOT, 'config/local-keys.json'));
    const spec = buildTopology(defaultDepartments).functions.find((fn) => fn.id === 'hotline-agent')!;
    const routes = (spec.routes ?? []).map((r) => ({ ...compileRoute(r.method, r.path), spec: r }));
    server = createServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const found = matchRoute(routes, req.method ?? 'GET', path);
      if (!found) return void res.writeHead(404).end();
      const auth = authorize(req, found.route.spec, keys);
      if (!auth.ok)
        return void res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"error":{"code":"UNAUTHENTICATED"}}');
      const body = await readBody(req, 1 << 20);
      const event = toEvent(req, body as Buffer, found.route, found.params, auth.authorizer);
      const result = await handleAgentApi(event, f.deps).catch((e) => ({
        statusCode: e.status ?? 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: e.toJSON?.() ?? { code: 'INTERNAL' } }),
      }));
      writeResult(res, result);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'cityloop-import-'));
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    f = fakes();
    f.now.value = new Date();
  });

  it('should import a GBK file, file every good row once, and report every bad row with its reason', async () => {
    // Prepare
    const file = join(dir, 'letters-gbk.csv');
    writeFileSync(file, iconv.encode(`${[HEADER, ...ROWS].join('\r\n')}\r\n`, 'gbk'));
    // Act
    const run = await cityloop(['import', '--channel', 'hotline', file, '--url', url, '--agent', 'agent-002'], {});
    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('(gb18030)');
    expect(run.stdout).toMatch(/新受理 created\s+3/);
    expect(run.stdout).toMatch(/拒绝 rejected\s+6/);
    // The three good rows, with the agent of the key as 录入人 and the letter's own date.
    const letter = f.store.reports.get('hotline#letter:L-002')!;
    expect(letter.request).toMatchObject({
      channel: 'hotline',
      enteredBy: 'agent-002',
      receivedAt: `${day(-7)}T00:00:00+08:00`,
      text: '反映噪音："工地"夜间施工',
      nature: '投诉',
      citizen: { name: '李四', phone: '+8613900139000' },
    });
    const walkin = [...f.store.reports.values()].find((r) => r.idemKey.startsWith('hotline#walkin:agent-002:'));
    expect(walkin?.request.text).toBe('来访咨询：\n办理居住证需要什么材料？');
    // Every rejected row is printed and written with its reason and original fields.
    const rejects = readFileSync(`${file}.rejected.csv`, 'utf8');
    for (const [line, code] of [
      [6, 'NO_CONTACT'],
      [7, 'INVALID_PHONE'],
      [8, 'INVALID_SOURCE'],
      [9, 'DUPLICATE_REF'],
      [10, 'CSV_BAD_QUOTE'],
      [11, 'INVALID_RECEIVED_AT'],
    ] as const) {
      expect(run.stdout).toMatch(new RegExp(`line ${line}\\b.*${code}`));
      expect(rejects).toMatch(new RegExp(`\\r\\n${line},${code},`));
    }
    expect(rejects.startsWith('\uFEFF行号 line,错误码 code,原因 reason,序号,编号')).toBe(true);
    // Progress went to stderr, not into the summary.
    expect(run.stderr).toContain('100%');
  });

  it('should file nothing twice when the same file is imported again', async () => {
    // Prepare
    const file = join(dir, 'letters-utf8.csv');
    writeFileSync(file, `\uFEFF${[HEADER, ROWS[0], ROWS[1]].join('\n')}\n`);
    // Act
    const first = await cityloop(['import', '--channel', 'hotline', file, '--url', url], {});
    const again = await cityloop(['import', '--channel', 'hotline', file, '--url', url], {});
    // Assess
    expect(first.code).toBe(0);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/已录入过 already filed 2/);
    expect(f.store.reports.size).toBe(2);
    const tn = f.store.reports.get('hotline#letter:L-001')!.trackingNo;
    expect(again.stdout).toContain(`受理编号 ${tn}  (已录入过 already filed)`);
    expect(existsSync(`${file}.rejected.csv`)).toBe(false);
  });

  it('should stop on a refused credential and report every row as not sent', async () => {
    // Prepare
    const file = join(dir, 'letters-key.csv');
    writeFileSync(file, `${[HEADER, ROWS[0], ROWS[1]].join('\n')}\n`);
    // Act
    const run = await cityloop(['import', '--channel', 'hotline', file, '--url', url, '--api-key', 'wrong-key'], {});
    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout.match(/NOT_SENT/g)).toHaveLength(2);
    expect(f.store.reports.size).toBe(0);
  });

  it('should refuse an unknown column and a missing channel as usage errors', async () => {
    // Prepare
    const file = join(dir, 'bad-header.csv');
    writeFileSync(file, '编号,内容,备注\nL-1,x,y\n');
    // Act
    const unknown = await cityloop(['import', '--channel', 'hotline', file, '--url', url], {});
    const noChannel = await cityloop(['import', file, '--url', url], {});
    // Assess
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('CSV_UNKNOWN_COLUMN');
    expect(noChannel.code).toBe(2);
  });
});
