/**
 * `npm run soak`: the long fuzz and a bounded soak of the local stack, printing cases tried, failures, lost and
 * duplicated reports (all three must be zero; exit 1 otherwise).
 *
 * 1. Long fuzz: every channel parser's fuzz suite (test/unit/fuzz) and the random fault schedules
 *    (test/unit/faults/schedule.fuzz.test.ts) with larger budgets; cases counted per parser.
 * 2. Soak: the local stack on 127.0.0.1 (own temp data folder), a storm of citizen reports for at most `--seconds`
 *    (default 60) with DynamoDB and EventBridge faults on the wire (fault proxies: throttling, 500s, answers lost after
 *    the write, PutEvents partial failures), triage runs that crash after the case write, double submissions, and a
 *    restart of the whole stack on the same data folder halfway. Then the faults stop, the intake DLQ is redriven
 *    (`cityloop dlq redrive`), triage drains (bounded), and the store and queues are audited with the same counting
 *    as `cityloop verify`, the daily aggregates against a recount of the cases (`cityloop verify --metrics`).
 *
 * Options: --reports N (2000) --seconds S (60) --concurrency C (16) --fuzz-runs N (1500) --fault-runs N (60)
 *          --fault-rate R (0.04: DynamoDB, per call and per kind) --bus-fault-rate R (0.1: PutEvents and triage
 *          crashes) --drain-seconds S (600) --skip-fuzz --skip-soak
 * Loopback only; every loop is bounded in count and time.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Bus } from '#core/ports.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { getRuntime, resetAwsClients, setRuntime } from '#functions/lib/runtime.ts';
import { type LocalStack, ROOT, startLocalStack } from '#local/stack.ts';
import { run as dlq } from '../cli/commands/dlq.ts';
import { run as verify } from '../cli/commands/verify.ts';
import { type FaultProxy, type ProxyFault, startFaultProxy } from '../test/helpers/fault-proxy.ts';
import { audit, collectQueues, type StormSubmission, storm } from '../test/helpers/storm.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const REPORTS = option('reports', 2000);
const SECONDS = Math.min(option('seconds', 60), 60);
const CONCURRENCY = option('concurrency', 16);
const FUZZ_RUNS = option('fuzz-runs', 1500);
const FAULT_RUNS = option('fault-runs', 60);
const FAULT_RATE = Math.min(option('fault-rate', 0.04), 0.3);
/** The bus sees far fewer calls than the table (one PutEvents per triage batch): a higher rate per kind. */
const BUS_FAULT_RATE = Math.min(option('bus-fault-rate', 0.1), 0.3);
const DRAIN_SECONDS = option('drain-seconds', 600);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const out = (line = '') => process.stdout.write(`${line}\n`);
let failed = false;

// ---- 1. long fuzz -------------------------------------------------------------------------------------------------

async function longFuzz(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cityloop-fuzz-'));
  const counts = join(dir, 'counts.jsonl');
  const report = join(dir, 'vitest.json');
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      join(ROOT, 'node_modules/.bin/vitest'),
      ['run', 'test/unit/fuzz', 'test/unit/faults/schedule.fuzz.test.ts', '--reporter=json', `--outputFile=${report}`],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          CITYLOOP_FUZZ_RUNS: String(FUZZ_RUNS),
          CITYLOOP_FAULT_RUNS: String(FAULT_RUNS),
          CITYLOOP_FUZZ_COUNTS: counts,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    child.on('close', (c) => resolve(c ?? 1));
  });
  const perParser = new Map<string, number>();
  if (existsSync(counts)) {
    for (const line of readFileSync(counts, 'utf8').split('\n').filter(Boolean)) {
      const { parser, cases } = JSON.parse(line) as { parser: string; cases: number };
      perParser.set(parser, (perParser.get(parser) ?? 0) + cases);
    }
  }
  perParser.set('fault schedules (whole pipeline, every fault at once)', FAULT_RUNS);
  let failures = 0;
  const failedTests: string[] = [];
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      numFailedTests: number;
      testResults: { assertionResults: { status: string; fullName: string; failureMessages?: string[] }[] }[];
    };
    failures = r.numFailedTests;
    for (const f of r.testResults)
      for (const a of f.assertionResults) if (a.status === 'failed') failedTests.push(a.fullName);
  } else failures = code === 0 ? 0 : 1;
  rmSync(dir, { recursive: true, force: true });
  out('## 1. 长时模糊测试 long fuzz');
  out(`| parser | cases tried |`);
  out('|---|---:|');
  for (const [p, n] of perParser) out(`| ${p} | ${n} |`);
  out(`| **total** | **${[...perParser.values()].reduce((a, b) => a + b, 0)}** |`);
  out(
    `failures: ${failures}${failedTests.length ? ` (${failedTests.join('; ')})` : ''} · ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  out();
  if (failures > 0 || code !== 0) failed = true;
}

// ---- 2. soak --------------------------------------------------------------------------------------------------------

function submissions(n: number): StormSubmission[] {
  const roads = ['和平路', '人民路', '建设路', '解放路', '中山路', '青年路', '光明街', '长江路', '黄河路', '学府路'];
  const problems = ['路灯不亮', '噪音扰民', '垃圾没人清运', '井盖缺失', '占道经营', '污水外溢', '咨询居住证办理'];
  return Array.from({ length: n }, (_, i) => {
    const place = `${roads[i % roads.length]}${(i * 37) % 997}号`;
    const title = problems[(i * 7) % problems.length]!;
    return {
      key: `soak-${Date.now().toString(36)}-${String(i).padStart(6, '0')}`,
      body: {
        title,
        text: `${place}${title}，第${i}号反映，请尽快处理。`,
        citizen:
          i % 9 === 0 ? { anonymous: true } : { phone: `13${5 + (i % 4)}${String(10_000_000 + i * 7919).slice(-8)}` },
        location: { address: place },
      },
    };
  });
}

interface MetricsSummary {
  items: number;
  mismatches: unknown[];
}

/** What `fn` writes to stdout, kept from the report this script prints. */
async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let text = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return text;
}

async function soak(): Promise<void> {
  setLogSink(() => undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'cityloop-soak-'));
  process.env.CITYLOOP_DATA_DIR = dataDir;
  const quiet = { port: 0, smtpPort: 0, scheduleMs: 0, quiet: true, dataDir };
  let stack: LocalStack = await startLocalStack(quiet);
  const faultsOn = { value: true };
  const pick = (kinds: ProxyFault[], rate: number): ProxyFault => {
    if (!faultsOn.value) return 'pass';
    const r = Math.random();
    return r < rate * kinds.length ? kinds[Math.floor(r / rate)]! : 'pass';
  };
  const proxies: FaultProxy[] = [
    await startFaultProxy({
      upstream: () => stack.info.endpoints.dynamodb,
      decide: () => pick(['throttle', 'drop-response', 'error500'], FAULT_RATE),
    }),
    await startFaultProxy({
      upstream: () => stack.info.endpoints.eventbridge,
      decide: () => pick(['partial', 'drop-response', 'throttle'], BUS_FAULT_RATE),
    }),
  ];
  let crashes = 0;
  const sqsOf = () =>
    new SQSClient({ endpoint: stack.info.endpoints.sqs, region: stack.info.region, useQueueUrlAsEndpoint: false });
  const visibility = (seconds: number) =>
    sqsOf().send(
      new SetQueueAttributesCommand({
        QueueUrl: stack.info.queues.intake!,
        Attributes: { VisibilityTimeout: String(seconds) },
      }),
    );
  const inject = async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxies[0]!.url;
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = proxies[1]!.url;
    resetAwsClients();
    const real = getRuntime().bus;
    const crashing: Bus = {
      publish: async (events) => {
        if (faultsOn.value && Math.random() < BUS_FAULT_RATE) {
          crashes++;
          throw new Error('injected: crash after the case write');
        }
        return real.publish(events);
      },
    };
    setRuntime({ bus: crashing as never });
    // A failed report comes back in 2 s instead of 3 minutes, so the soak sees redeliveries and the DLQ.
    await visibility(2);
  };
  await inject();

  const subs = submissions(REPORTS);
  let url = stack.info.url;
  let progress = 0;
  let restartMs = 0;
  const started = Date.now();
  const running = storm({
    url: () => url,
    submissions: subs,
    concurrency: CONCURRENCY,
    deadline: started + SECONDS * 1000,
    repeatEvery: 10,
    onAccept: (n) => {
      progress = n;
    },
  });
  // Mid-storm restart on the same data folder.
  for (let i = 0; i < SECONDS * 100 && progress < REPORTS / 2; i++) await sleep(10);
  const r0 = Date.now();
  await visibility(180);
  await stack.stop();
  stack = await startLocalStack(quiet);
  url = stack.info.url;
  await inject();
  restartMs = Date.now() - r0;
  const result = await running;
  const stormMs = Date.now() - started;
  // Triage keeps working under the faults until the soak's time is up; then the outage ends.
  while (Date.now() < started + SECONDS * 1000) await sleep(200);
  const calls = proxies.map((p) => Object.values(p.stats).reduce((a, b) => a + b, 0));

  // The outage ends: faults off, triage drains, the intake DLQ is redriven, triage drains again.
  faultsOn.value = false;
  const depth = async (id: string) => {
    const a = await sqsOf().send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.info.queues[id]!,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const drainUntil = Date.now() + DRAIN_SECONDS * 1000;
  const drainStarted = Date.now();
  while (Date.now() < drainUntil && (await depth('intake')) > 0) await sleep(500);
  const dead = await depth('intake-dlq');
  if (dead > 0) {
    await sleep(1100);
    await dlq(['redrive', '--queue', 'intake-dlq', '--max', String(dead + 10)]);
    while (Date.now() < drainUntil && (await depth('intake')) > 0) await sleep(500);
  }
  await stack.drain();
  await sleep(1000);
  const drainMs = Date.now() - drainStarted;
  const deliveries = await collectQueues(stack.info);
  const a = await audit(stack.info, result.accepted, deliveries);
  const misplaced = a.misplaced.filter((p) => p.queues.length !== 1 || p.queues[0] !== p.expected);
  // 考核数据: the daily aggregates against a recount of the cases (`cityloop verify --metrics`, its JSON captured).
  const recount = await captureStdout(() => verify(['--grace', '0', '--metrics', '--json']));
  const metrics = (JSON.parse(recount.trim().split('\n').pop() ?? '{}') as { metrics?: MetricsSummary }).metrics;
  const mismatched = metrics?.mismatches.length ?? 1;
  const failures = a.rec.violations.length + misplaced.length + result.refused + result.abandoned + mismatched;
  const stats = proxies.map((p) => p.stats);

  out('## 2. 本地系统浸泡测试 soak (local stack, 127.0.0.1)');
  out(`| measure | value |`);
  out('|---|---:|');
  out(`| submissions tried (incl. double posts) | ${REPORTS + Math.ceil(REPORTS / 10)} |`);
  out(`| accepted (202, one tracking number each) | ${a.accepted} |`);
  out(
    `| storm (accept phase) | ${(stormMs / 1000).toFixed(1)} s, ${((a.accepted / stormMs) * 1000).toFixed(0)} reports/s |`,
  );
  out(`| faults on (storm, then triage under faults) | ${SECONDS} s |`);
  out(
    `| HTTP attempts / retried (5xx, 429, refused during the restart) | ${result.attempts} / ${result.retried} (429: ${result.limited}) |`,
  );
  out(`| restart of the whole stack mid-storm | ${(restartMs / 1000).toFixed(1)} s |`);
  const d = stats[0]!;
  const e = stats[1]!;
  out(
    `| DynamoDB calls under faults; faults (throttle / lost answer / 500) | ${calls[0]}; ${d.throttle} / ${d['drop-response']} / ${d.error500} |`,
  );
  out(
    `| PutEvents calls under faults; faults (partial / lost answer / throttle) | ${calls[1]}; ${e.partial} / ${e['drop-response']} / ${e.throttle} |`,
  );
  out(`| triage crashes after the case write | ${crashes} |`);
  out(`| intake DLQ after the storm (redriven) | ${dead} |`);
  out(`| drain (triage until every report has its case) | ${(drainMs / 1000).toFixed(1)} s |`);
  out(`| cases | ${a.rec.cases} (reports merged by dedupe: ${a.rec.settled - a.rec.cases}) |`);
  out(`| repeated announcements (same eventId, dropped by consumers) | ${a.repeatCopies} |`);
  out(
    `| daily aggregates recounted from the cases (items / mismatched) | ${metrics?.items ?? '?'} / ${metrics ? mismatched : 'not read'} |`,
  );
  out(
    `| **failures** (violations ${a.rec.violations.length}, misplaced ${misplaced.length}, refused ${result.refused}, abandoned ${result.abandoned}, aggregates ${mismatched}) | **${failures}** |`,
  );
  out(`| **lost reports** | **${a.lost.length}** |`);
  out(`| **duplicated reports** | **${a.duplicated.length}** |`);
  if (failures + a.lost.length + a.duplicated.length > 0) {
    failed = true;
    out(`lost: ${a.lost.slice(0, 10).join(' ')} duplicated: ${a.duplicated.slice(0, 10).join(' ')}`);
    for (const v of a.rec.violations.slice(0, 10)) out(`✗ ${v.kind} ${v.message}`);
    for (const m of misplaced.slice(0, 10))
      out(`✗ misplaced ${m.caseId}: expected ${m.expected}, found in ${m.queues.join(',') || 'no queue'}`);
  }
  await stack.stop();
  for (const p of proxies) await p.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

out(`# CityLoop soak · ${new Date().toISOString()}`);
out();
if (!flag('skip-fuzz')) await longFuzz();
if (!flag('skip-soak')) await soak();
out(failed ? '✗ FAILED' : '✓ cases tried, no failures, nothing lost, nothing duplicated');
process.exit(failed ? 1 : 0);
