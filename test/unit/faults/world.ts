/**
 * A whole CityLoop in memory for fault injection: the real web handler (intake), the real triage consumer, the real
 * DynamoStore / SqsWorkQueue / EventBridgeBus adapters, over the fakes of `fake-aws.ts`, with a consumer loop that
 * behaves like the Lambda SQS event source (ReportBatchItemFailures, delete after success, redelivery after the
 * visibility timeout, maxReceiveCount → DLQ). Counting uses `core/reconcile.ts` through `cityloop verify`'s own
 * Scan (`scanStore`), so the tests count exactly as the operator's tool does.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { vi } from 'vitest';
import { type Reconciliation, reconcile, tallyAccepted } from '#core/reconcile.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, queueEnvName, type Topology } from '#core/topology.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { getRuntime, resetAwsClients, setRuntime } from '#functions/lib/runtime.ts';
import { scanStore } from '../../../cli/commands/verify.ts';
import { type Envelope, FakeDynamo, FakeEventBridge, FakeSqs } from './fake-aws.ts';

export const TABLE = 'cityloop';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;

export interface Submission {
  key: string;
  body: Record<string, unknown>;
}

export interface PumpOptions {
  /** The consumer crashes after the handler ran but before deleting (the batch comes back). */
  loseDelete?: () => boolean;
  /** The visibility timeout expires while the batch is processed: a second consumer gets the same messages. */
  concurrentCopy?: () => boolean;
  maxRounds?: number;
}

export interface Placement {
  caseId: string;
  /** Queue ids holding the case's first announcement (by eventId). */
  queues: string[];
  expected: string;
  copies: number;
}

export class World {
  readonly topology: Topology = buildTopology(defaultDepartments);
  readonly ddb = new FakeDynamo();
  readonly sqs = new FakeSqs(this.topology);
  readonly eb = new FakeEventBridge(this.topology, this.sqs);
  readonly logs: string[] = [];
  /** Submission key → tracking numbers the client was given (202). */
  readonly accepted = new Map<string, Set<string>>();
  clockMs = Date.parse('2025-11-28T02:00:00Z');
  private mocks: { restore(): void }[] = [];
  web!: Handler;
  private triage!: (e: SQSEvent) => Promise<SQSBatchResponse>;

  async start(): Promise<this> {
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    process.env.TABLE_NAME = TABLE;
    process.env.EVENT_BUS_NAME = 'cityloop-bus';
    process.env.BLOB_BUCKET = 'blobs';
    // No local stack to find: the CLI commands must use the QUEUE_URL_* env (the fakes).
    process.env.CITYLOOP_DATA_DIR = '/nonexistent/cityloop-unit-test';
    for (const q of this.topology.queues) process.env[queueEnvName(q.id)] = FakeSqs.urlOf(q.id);
    this.mocks = [this.ddb.install(), this.sqs.install(), this.eb.install()];
    // The bus adapter waits 50/100 ms between its retries: no real waiting in unit tests.
    const realSetTimeout = globalThis.setTimeout;
    vi.stubGlobal('setTimeout', ((fn: () => void, _ms?: number, ...args: unknown[]) =>
      realSetTimeout(fn, 0, ...(args as []))) as typeof setTimeout);
    setLogSink((line) => this.logs.push(line));
    resetAwsClients();
    getRuntime();
    setRuntime({ clock: { now: () => new Date(this.clockMs) } });
    this.web = ((await import('#functions/http/requests.ts')) as unknown as { handler: Handler }).handler;
    this.triage = (
      (await import('#functions/triage.ts')) as unknown as {
        triageHandler: (e: SQSEvent) => Promise<SQSBatchResponse>;
      }
    ).triageHandler;
    return this;
  }

  stop(): void {
    for (const m of this.mocks) m.restore();
    vi.unstubAllGlobals();
    resetAwsClients();
  }

  /** One POST /api/requests through the real handler (middy, httpErrors). */
  async post(
    body: unknown,
    headers: Record<string, string> = {},
  ): // biome-ignore lint/suspicious/noExplicitAny: an HTTP answer body, read field by field in tests
  Promise<{ status: number; json: any }> {
    const res = await this.web(
      {
        version: '2.0',
        routeKey: 'POST /api/requests',
        rawPath: '/api/requests',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/api/requests', sourceIp: '127.0.0.1' } },
      },
      {},
    );
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json };
  }

  /** A citizen's client: retries on 5xx with the same Idempotency-Key until accepted (bounded). */
  async submit(s: Submission, attempts = 40): Promise<string | undefined> {
    for (let i = 0; i < attempts; i++) {
      const r = await this.post(s.body, { 'idempotency-key': s.key });
      if (r.status === 202) {
        const set = this.accepted.get(s.key) ?? new Set<string>();
        set.add(r.json.trackingNo);
        this.accepted.set(s.key, set);
        return r.json.trackingNo as string;
      }
      if (r.status < 500) throw new Error(`refused ${r.status}: ${JSON.stringify(r.json)}`);
    }
    return undefined;
  }

  private event(messages: { id: string; body: string; handle?: string; receiveCount: number }[]): SQSEvent {
    return {
      Records: messages.map((m) => ({
        messageId: m.id,
        receiptHandle: m.handle ?? '',
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: '0',
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:cityloop-intake',
        awsRegion: 'us-east-1',
      })),
    };
  }

  /** One consumer step: invoke triage on a batch and delete what succeeded (as the Lambda event source does). */
  private async consume(batch: ReturnType<FakeSqs['receive']>, opts: PumpOptions): Promise<void> {
    let failed = new Set<string>();
    try {
      const res = await this.triage(this.event(batch));
      failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(batch.map((m) => m.id));
    }
    if (opts.loseDelete?.()) return;
    for (const m of batch) if (!failed.has(m.id)) this.sqs.deleteByHandle('intake', m.handle ?? '');
  }

  /**
   * Runs the triage consumer until the intake queue is empty, moving the virtual clock past visibility timeouts
   * when nothing is visible. Returns the number of handler invocations.
   */
  async pump(opts: PumpOptions = {}): Promise<number> {
    let rounds = 0;
    const max = opts.maxRounds ?? 2000;
    while (rounds < max) {
      this.sqs.now = this.clockMs;
      const batch = this.sqs.receive('intake', 10);
      if (batch.length === 0) {
        const next = this.sqs.nextVisible('intake');
        if (next === undefined) return rounds;
        this.clockMs = Math.max(this.clockMs + 1, next);
        continue;
      }
      rounds++;
      if (opts.concurrentCopy?.()) {
        // The visibility timeout ran out mid-batch: another consumer receives the same messages meanwhile.
        this.sqs.now = this.clockMs + this.sqs.queues.get('intake')!.visibilityMs;
        const copy = this.sqs.receive('intake', 10).filter((m) => batch.some((b) => b.id === m.id));
        this.sqs.now = this.clockMs;
        await Promise.all([this.consume(batch, opts), this.consume(copy, opts)]);
      } else {
        await this.consume(batch, opts);
      }
      this.clockMs += 1000;
    }
    throw new Error(`pump did not drain the intake queue in ${max} rounds`);
  }

  /** `cityloop dlq redrive` for a queue's DLQ, in memory: every message back to its source queue. */
  redrive(dlqId: string): number {
    const source = this.topology.queues.find((q) => q.dlq === dlqId)!.id;
    const dlq = this.sqs.queues.get(dlqId)!;
    const moved = dlq.messages.splice(0);
    for (const m of moved) this.sqs.send(source, m.body);
    return moved.length;
  }

  /** Every message in every queue, parsed as an EventBridge envelope where it is one. */
  deliveries(): Map<string, Envelope[]> {
    const out = new Map<string, Envelope[]>();
    for (const q of this.sqs.queues.values()) {
      const list: Envelope[] = [];
      for (const m of q.messages) {
        try {
          const e = JSON.parse(m.body) as Envelope;
          if (e?.detail?.eventId) list.push(e);
        } catch {
          // not an event (an intake message or poison)
        }
      }
      out.set(q.id, list);
    }
    return out;
  }

  /** The store as `cityloop verify` reads it, reconciled; and the client's tally. */
  async verify(graceMinutes = 0): Promise<{
    rec: Reconciliation;
    lost: string[];
    duplicated: string[];
    placements: Placement[];
  }> {
    const plan = this.ddb.plan;
    this.ddb.plan = () => 'none';
    const snap = await scanStore(new DynamoDBClient({}), TABLE, 3);
    this.ddb.plan = plan;
    const rec = reconcile(snap.reports, snap.cases, { now: new Date(this.clockMs + 3600_000), graceMinutes });
    const accepted = [...this.accepted].flatMap(([key, tns]) =>
      [...tns].map((tn) => ({ trackingNo: tn, submission: key })),
    );
    const { lost, duplicated } = tallyAccepted(rec, snap.reports, accepted);
    const deliveries = this.deliveries();
    const placements: Placement[] = snap.cases.map((c) => {
      const expected = c.state === 'triage' ? 'triage' : `dept-${c.department}`;
      const first = `${c.caseId}:1:${c.state === 'triage' ? 'Case.TriageRequired' : 'Case.Dispatched'}`;
      const queues: string[] = [];
      let copies = 0;
      for (const [q, list] of deliveries) {
        const n = list.filter((e) => e.detail.eventId === first).length;
        if (n > 0) queues.push(q);
        copies += n;
      }
      return { caseId: c.caseId, queues, expected, copies };
    });
    return { rec, lost, duplicated, placements };
  }
}

/**
 * Distinct citizen requests (different people, places and problems: the dedupe engine must not merge them), some the
 * classifier routes to a department, some it leaves to manual triage.
 */
const POOL = [
  ...'春夏秋冬东南西北山水田林湖海风雨雪霜云雷电光明暗早晚天地日月星辰花草树木鸟兽虫鱼金银铜铁锡石砖瓦门窗桌椅床柜书画琴棋诗酒茶',
];

export function submissions(n: number, prefix = 's'): Submission[] {
  const roads = [
    '和平路',
    '人民路',
    '建设路',
    '解放路',
    '中山路',
    '青年路',
    '光明街',
    '长江路',
    '黄河路',
    '学府路',
    '文化路',
  ];
  const problems = [
    ['路灯不亮', (p: string) => `${p}门口的路灯坏了，晚上一片漆黑，行人看不清路`],
    ['噪音扰民', (p: string) => `${p}附近工地夜间施工，电钻声音很大，影响休息`],
    ['垃圾没人清运', (p: string) => `${p}小区垃圾桶满了好几天没人清运，气味难闻`],
    ['井盖缺失', (p: string) => `${p}路口的井盖不见了，车辆经过非常危险`],
    ['占道经营', (p: string) => `${p}人行道上摆满了水果摊，行人只能走机动车道`],
    ['其他', (p: string) => `想反映一下${p}这边的情况，不知道该找哪个部门`],
  ] as const;
  return Array.from({ length: n }, (_, i) => {
    const [title, text] = problems[i % problems.length]!;
    const place = `${roads[Math.floor(i / problems.length) % roads.length]}${100 + i * 7}号`;
    // A clause of its own per request, so no two texts are near-duplicates.
    const own = Array.from({ length: 40 }, (_, k) => POOL[(i * 131 + k * 17 + ((i * k) % 7)) % POOL.length]).join('');
    return {
      key: `submission-${prefix}-${String(i).padStart(5, '0')}`,
      body: {
        title,
        text: `${text(place)}。${own}`,
        citizen: { phone: `139${String(10_000_000 + i * 7919).slice(-8)}` },
        location: { address: place },
      },
    };
  });
}

/** Runs a CLI command's `run` in-process, capturing what it prints. */
export async function runCli(
  run: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await run(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
