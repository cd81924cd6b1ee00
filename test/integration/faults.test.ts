/**
 * Fault injection on the running local stack (dynalite, fauxqs, our EventBridge; the real handlers, pollers and
 * CLI): a poison message, a crash between the case write and the event, DynamoDB and EventBridge failing on the wire
 * (throttling, 500s, answers lost after the call was applied, PutEvents partial failures), an EventBridge replay
 * from the archive, and a restart of the whole stack mid-storm on the same data folder. After each: every tracking
 * number the clients were given is exactly one case, announced into exactly one queue (its department's, or manual
 * triage), and `cityloop verify` agrees.
 */
import {
  CreateArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import {
  GetQueueAttributesCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '#core/ports.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { getRuntime, resetAwsClients, setRuntime } from '#functions/lib/runtime.ts';
import type { LocalStack } from '#local/stack.ts';
import { peekQueue } from '../../cli/commands/verify.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { cityloop, eventually, startTestStack } from '../helpers/local-stack.ts';
import { audit, collectQueues, type Envelope, type StormSubmission, storm } from '../helpers/storm.ts';

function submissions(n: number, prefix: string): StormSubmission[] {
  const roads = ['和平路', '人民路', '建设路', '解放路', '中山路', '青年路', '光明街', '长江路'];
  const problems = ['路灯不亮', '噪音扰民', '垃圾没人清运', '井盖缺失', '占道经营', '咨询居住证办理'];
  return Array.from({ length: n }, (_, i) => {
    const place = `${roads[i % roads.length]}${(i * 37) % 900}号`;
    const title = problems[i % problems.length]!;
    return {
      key: `${prefix}-${String(i).padStart(6, '0')}`,
      body: {
        title,
        text: `${place}${title}，编号${prefix}${i}，请尽快处理。${'春夏秋冬东南西北山水田林'.slice(i % 6, (i % 6) + 6)}`,
        citizen: { phone: `137${String(10_000_000 + i * 7919 + prefix.length * 13).slice(-8)}` },
        location: { address: place },
      },
    };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const allAccepted = new Map<string, Set<string>>();
const deliveries = new Map<string, Envelope[]>();
function merge(accepted: Map<string, Set<string>>, got: Map<string, Envelope[]>) {
  for (const [k, v] of accepted) allAccepted.set(k, new Set([...(allAccepted.get(k) ?? []), ...v]));
  for (const [q, list] of got) deliveries.set(q, [...(deliveries.get(q) ?? []), ...list]);
}

describe('Local stack: fault injection', { timeout: 90_000 }, () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let sqs: SQSClient;

  const queueDepth = async (id: string) => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.info.queues[id]!,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const setIntakeVisibility = (seconds: number) =>
    sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: stack.info.queues.intake!,
        Attributes: { VisibilityTimeout: String(seconds) },
      }),
    );
  const createArchive = async () => {
    const eb = new EventBridgeClient({ endpoint: stack.info.endpoints.eventbridge, region: stack.info.region });
    const bus = await eb.send(new DescribeEventBusCommand({ Name: stack.info.busName }));
    await eb.send(new CreateArchiveCommand({ ArchiveName: 'cityloop-archive', EventSourceArn: bus.Arn! }));
    return { eb, busArn: bus.Arn! };
  };
  const settled = async (s: { accepted: Map<string, Set<string>> }) => {
    let last: unknown;
    await eventually(
      async () => {
        await stack.drain();
        const a = await audit(stack.info, s.accepted, new Map());
        last = { lost: a.lost, owed: a.rec.owed, violations: a.rec.violations, pending: a.rec.pending.length };
        return a.lost.length === 0 && a.rec.owed.length === 0;
      },
      30_000,
      250,
    ).catch((e) => {
      const lost = (last as { lost?: string[] })?.lost ?? [];
      const related = logs.filter((l) => lost.some((tn) => l.includes(tn))).slice(-12);
      throw new Error(`not settled: ${JSON.stringify(last)} (${(e as Error).message})\n${related.join('\n')}`);
    });
    // Deliveries to the department queues are asynchronous (EventBridge → SQS): let them land.
    await new Promise((r) => setTimeout(r, 300));
  };

  const logs: string[] = [];
  beforeAll(async () => {
    // The handlers' logs (thousands of lines in a storm) are kept for the checks, not printed.
    setLogSink((line) => {
      if (logs.length < 50_000) logs.push(line);
    });
    ({ stack, dataDir, cleanup } = await startTestStack());
    sqs = new SQSClient({
      endpoint: stack.info.endpoints.sqs,
      region: stack.info.region,
      useQueueUrlAsEndpoint: false,
    });
    await createArchive();
    // Redelivery in a second instead of 3 minutes, so a failed report comes back within the test.
    await setIntakeVisibility(1);
  });
  afterAll(async () => {
    sqs?.destroy();
    await cleanup?.();
  });

  it('should dead-letter a poison message after maxReceiveCount without blocking the good reports', async () => {
    // Prepare: poison first, then good reports in the same batches.
    await sqs.send(
      new SendMessageCommand({ QueueUrl: stack.info.queues.intake!, MessageBody: '{"report":{"trackingNo":"x"}}' }),
    );
    const s = await storm({
      url: () => stack.info.url,
      submissions: submissions(10, 'poison'),
      concurrency: 4,
      deadline: Date.now() + 20_000,
    });
    // Act: good reports settle at once; the poison needs 5 receives (1 s apart) before the DLQ takes it.
    await settled(s);
    const dlq = await eventually(
      async () => {
        const r = await cityloop(['dlq', 'list', '--queue', 'intake-dlq', '--json'], { CITYLOOP_DATA_DIR: dataDir });
        const row = JSON.parse(r.stdout.trim());
        return row.visible === 1 ? row : undefined;
      },
      20_000,
      500,
    );
    // Assess (what the tools looked at is visible again a second later)
    expect(dlq.samples[0].receiveCount).toBeGreaterThanOrEqual(6);
    await sleep(1100);
    const dry = await cityloop(['dlq', 'redrive', '--queue', 'intake-dlq', '--dry-run', '--json'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, moved: 1 });
    await sleep(1100);
    const got = await collectQueues(stack.info);
    expect(got.get('intake-dlq')).toHaveLength(1);
    got.delete('intake-dlq');
    merge(s.accepted, got);
    const a = await audit(stack.info, allAccepted, deliveries);
    expect({ lost: a.lost, duplicated: a.duplicated, misplaced: a.misplaced, violations: a.rec.violations }).toEqual({
      lost: [],
      duplicated: [],
      misplaced: [],
      violations: [],
    });
  });

  it('should settle every report through a crash after the case write and DynamoDB/EventBridge faults on the wire', async () => {
    // Prepare: the handlers' DynamoDB and EventBridge clients go through fault proxies (the SDK retries for real).
    let n = 0;
    const ddbFaults = ['throttle', 'drop-response', 'error500'] as const;
    const ddbProxy = await startFaultProxy({
      upstream: () => stack.info.endpoints.dynamodb,
      decide: () => (n++ % 6 === 0 ? ddbFaults[((n / 6) % 3) | 0]! : 'pass'),
    });
    let m = 0;
    const ebProxy = await startFaultProxy({
      upstream: () => stack.info.endpoints.eventbridge,
      decide: () => (['partial', 'pass', 'drop-response', 'pass', 'throttle', 'pass'] as const)[m++ % 6]!,
    });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = ddbProxy.url;
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = ebProxy.url;
    resetAwsClients();
    // And every fourth triage run dies right after writing its cases (before the bus call returns).
    const real = getRuntime().bus;
    let calls = 0;
    const crashing: Bus = {
      publish: async (events) => {
        if (calls++ % 4 === 0) throw new Error('injected: crash after the case write');
        return real.publish(events);
      },
    };
    setRuntime({ bus: crashing as never });
    let s: Awaited<ReturnType<typeof storm>>;
    try {
      // Act 1: the storm, and triage working through the faults until the intake queue is empty (a report that failed
      // maxReceiveCount times is in the intake DLQ: the alarm's case).
      s = await storm({
        url: () => stack.info.url,
        submissions: submissions(24, 'wire'),
        concurrency: 6,
        deadline: Date.now() + 30_000,
        repeatEvery: 7,
      });
      expect(s.abandoned).toBe(0);
      expect(s.refused).toBe(0);
      await eventually(async () => (await queueDepth('intake')) === 0, 30_000, 250);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = stack.info.endpoints.dynamodb;
      process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = stack.info.endpoints.eventbridge;
      resetAwsClients();
      await ddbProxy.stop();
      await ebProxy.stop();
    }
    // Assess 1: faults happened, and nothing accepted is out of reach: on a case, or in the intake DLQ.
    expect(ddbProxy.stats.throttle + ddbProxy.stats['drop-response'] + ddbProxy.stats.error500).toBeGreaterThan(10);
    expect(ebProxy.stats.partial + ebProxy.stats['drop-response']).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(1);
    const mid = await audit(stack.info, s.accepted, new Map());
    const dlqBodies = await peekQueue(sqs, stack.info.queues['intake-dlq']!, 100);
    const inDlq = new Set(
      dlqBodies.map((b) => (JSON.parse(b) as { report: { trackingNo: string } }).report.trackingNo),
    );
    expect(mid.lost.filter((tn) => !inDlq.has(tn))).toEqual([]);
    expect(mid.duplicated).toEqual([]);
    await sleep(1100);
    // Act 2: the outage is over; the operator redrives the DLQ.
    const redrive = await cityloop(['dlq', 'redrive', '--queue', 'intake-dlq', '--json'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    expect(JSON.parse(redrive.stdout).moved).toBe(dlqBodies.length);
    await settled(s);
    // Assess 2
    merge(s.accepted, await collectQueues(stack.info));
    const a = await audit(stack.info, allAccepted, deliveries);
    expect({ lost: a.lost, duplicated: a.duplicated, misplaced: a.misplaced, violations: a.rec.violations }).toEqual({
      lost: [],
      duplicated: [],
      misplaced: [],
      violations: [],
    });
    expect(s.repeats).toBeGreaterThan(0);
  });

  it('should deliver an archive replay as repeats under the same eventIds, which the department pull drops', async () => {
    // Prepare: street-lamp reports (城管) announced into chengguan's queue.
    const lamps = [...Array(8).keys()].map((i) => ({
      key: `replay-${String(i).padStart(6, '0')}`,
      body: {
        title: '路灯不亮',
        text: `${['和平路', '人民路', '建设路', '解放路'][i % 4]}${10 + i * 11}号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。`,
        citizen: { phone: `1360013${String(1000 + i)}` },
        location: { address: `${['和平路', '人民路', '建设路', '解放路'][i % 4]}${10 + i * 11}号` },
      },
    }));
    const s = await storm({
      url: () => stack.info.url,
      submissions: lamps,
      concurrency: 4,
      deadline: Date.now() + 20_000,
    });
    await settled(s);
    // Act: replay everything archived so far back onto the bus.
    const eb = new EventBridgeClient({ endpoint: stack.info.endpoints.eventbridge, region: stack.info.region });
    const bus = await eb.send(new DescribeEventBusCommand({ Name: stack.info.busName }));
    await eb.send(
      new StartReplayCommand({
        ReplayName: 'faults-replay',
        EventSourceArn: bus.Arn!.replace(/event-bus\/.*$/, 'archive/cityloop-archive'),
        EventStartTime: new Date(Date.now() - 3600_000),
        EventEndTime: new Date(Date.now() + 60_000),
        Destination: { Arn: bus.Arn! },
      }),
    );
    await eventually(
      async () => (await eb.send(new DescribeReplayCommand({ ReplayName: 'faults-replay' }))).State === 'COMPLETED',
    );
    eb.destroy();
    await sleep(500);
    // Assess 1: verify sees the repeats (same eventId twice) and nothing in a wrong department's queue.
    const peek = await cityloop(['verify', '--queues', '--peek', '500', '--json'], { CITYLOOP_DATA_DIR: dataDir });
    const seen = JSON.parse(peek.stdout);
    expect(seen.queues.repeats).toBeGreaterThan(0);
    expect(seen.queues.misrouted).toEqual([]);
    expect(peek.code).toBe(0);
    await sleep(1100);
    // Assess 2: the department pull prints each case once, however many copies came, and empties the queue.
    const pulled = await cityloop(
      ['dept', 'pull', '--department', 'chengguan', '--json', '--wait', '1', '--max', '1000'],
      {
        CITYLOOP_DATA_DIR: dataDir,
      },
    );
    const lines = pulled.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { eventId: string; detailType: string; detail: Envelope['detail'] });
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines.map((l) => l.eventId)).size).toBe(lines.length);
    const rest = await collectQueues(stack.info);
    expect(rest.get('dept-chengguan')).toEqual([]);
    rest.set(
      'dept-chengguan',
      lines.map((l) => ({ 'detail-type': l.detailType, detail: l.detail })),
    );
    merge(s.accepted, rest);
    const a = await audit(stack.info, allAccepted, deliveries);
    expect(a.misplaced.filter((p) => p.queues.some((q) => q !== p.expected))).toEqual([]);
    expect(a.repeatCopies).toBeGreaterThan(0);
    expect(a.lost).toEqual([]);
  });

  it('should lose nothing and file nothing twice when the stack restarts mid-storm on the same data folder', async () => {
    // Prepare: a storm whose clients keep retrying through the restart.
    let url = stack.info.url;
    const deadline = Date.now() + 45_000;
    let progress = 0;
    const running = storm({
      url: () => url,
      submissions: submissions(60, 'restart'),
      concurrency: 6,
      deadline,
      repeatEvery: 10,
      onAccept: (k) => {
        progress = k;
      },
    });
    await eventually(async () => progress >= 20, 20_000, 10);
    // Act: stop everything (queues and table stay on disk) and start again on the same folder.
    await setIntakeVisibility(180);
    await stack.stop();
    const again = await startTestStack({ dataDir });
    stack = again.stack;
    cleanup = again.cleanup;
    sqs.destroy();
    sqs = new SQSClient({
      endpoint: stack.info.endpoints.sqs,
      region: stack.info.region,
      useQueueUrlAsEndpoint: false,
    });
    await setIntakeVisibility(1);
    url = stack.info.url;
    const s = await running;
    // Assess
    expect(s.abandoned).toBe(0);
    expect(s.retried).toBeGreaterThan(0);
    await settled(s);
    merge(s.accepted, await collectQueues(stack.info));
    const a = await audit(stack.info, allAccepted, deliveries);
    expect({ lost: a.lost, duplicated: a.duplicated, violations: a.rec.violations }).toEqual({
      lost: [],
      duplicated: [],
      violations: [],
    });
    expect(a.misplaced.filter((p) => p.queues.length === 0 || p.queues.some((q) => q !== p.expected))).toEqual([]);
    // The operator's reconciliation agrees.
    const verified = await cityloop(['verify', '--grace', '0', '--metrics'], { CITYLOOP_DATA_DIR: dataDir });
    expect(verified.stdout).toMatch(/^✓ /m);
    expect(verified.code).toBe(0);
  });
});
