/**
 * Local end to end (`npm run bench -- e2e`): the embedded stack (`npm start`, in its own process: one Node process
 * for emulators, handlers and pollers, as a developer runs it) under a bounded load generator on 127.0.0.1: for a few
 * seconds, at most `concurrency` requests in flight, POST /api/requests; meanwhile pollers read every department
 * queue (and the manual-triage queue) and note when each tracking number arrives. Figures: accepted reports/s and
 * the HTTP answer's p50/p99; reports/s and latency from the request to the department's queue.
 * Target: ≥ 300 reports/s on 2 cores with p99 ≤ 200 ms for the HTTP answer.
 *
 * `CITYLOOP_BENCH_CPU_PROF=<dir>` runs the stack under `node --cpu-prof` and writes its profile there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PROJECT_ROOT } from '../scripts/bundle.ts';
import { int, median, quantile } from './measure.ts';
import { sampleBodies } from './sample-reports.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const TARGET_RPS = 300;
const TARGET_P99_MS = 200;

interface StackInfo {
  url: string;
  endpoints: { sqs: string };
  queues: Record<string, string>;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function startStack(dataDir: string): Promise<{ child: ChildProcess; info: StackInfo }> {
  const prof = process.env.CITYLOOP_BENCH_CPU_PROF;
  const node = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
  // tsx as a loader in the same process (its CLI would run the stack in a grandchild): the pid is the stack's.
  const child = spawn(
    node,
    [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), '--import', 'tsx', 'local/main.ts'],
    {
      cwd: PROJECT_ROOT,
      // One load generator stands for many citizens: the per-client limit of the local gateway is off.
      env: {
        ...process.env,
        PORT: '0',
        SMTP_PORT: '0',
        CITYLOOP_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        CITYLOOP_RATE_LIMIT: 'off',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const file = join(dataDir, 'stack.json');
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) return { child, info: JSON.parse(readFileSync(file, 'utf8')) as StackInfo };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`local stack did not start: ${stderr.slice(-800)}`);
}

async function stopStack(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const suite: BenchSuite = async ({ quick }) => {
  const seconds = quick ? 3 : 6;
  // `CITYLOOP_BENCH_E2E_REPORTS=<n>`: a fixed workload instead (n reports, then a drain of up to 60 s), so that the
  // stack's CPU per report compares between two builds whatever the machine's other load.
  const fixed = Number(process.env.CITYLOOP_BENCH_E2E_REPORTS) || 0;
  const concurrency = 16;
  const dataDir = mkdtempSync(join(tmpdir(), 'cityloop-e2e-'));
  const { child, info } = await startStack(dataDir);
  try {
    const sqs = new SQSClient({
      endpoint: info.endpoints.sqs,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
    });
    const queueIds = Object.keys(info.queues).filter((id) => id.startsWith('dept-') && !id.endsWith('-dlq'));
    queueIds.push('triage');
    const sentAt = new Map<string, number>();
    const arrivedAt = new Map<string, number>();
    let polling = true;
    // One long-poll loop per queue, as each department would run; messages are deleted once seen.
    const pollers = queueIds.map(async (id) => {
      const url = info.queues[id]!;
      while (polling) {
        const out = await sqs
          .send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
          .catch(() => ({ Messages: [] }));
        const now = performance.now();
        const msgs = out.Messages ?? [];
        for (const m of msgs) {
          try {
            const tn = (JSON.parse(m.Body ?? '{}') as { detail?: { trackingNo?: string } }).detail?.trackingNo;
            if (tn && !arrivedAt.has(tn)) arrivedAt.set(tn, now);
          } catch {
            // not an event: ignore
          }
        }
        if (msgs.length) {
          await sqs
            .send(
              new DeleteMessageBatchCommand({
                QueueUrl: url,
                Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
              }),
            )
            .catch(() => undefined);
        }
      }
    });

    // Warm-up: a few requests so the first-request costs (module caches, connections) stay out of the figures.
    const bodies = sampleBodies(4000, 99);
    let seq = 0;
    const post = async (i: number) => {
      const t0 = performance.now();
      const res = await fetch(`${info.url}/api/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-${process.pid}-${i}` },
        body: JSON.stringify(bodies[i % bodies.length]),
      });
      const text = await res.text();
      const t1 = performance.now();
      return {
        status: res.status,
        ms: t1 - t0,
        t0,
        trackingNo: res.status === 202 ? (JSON.parse(text) as { trackingNo: string }).trackingNo : undefined,
      };
    };
    for (let i = 0; i < 8; i++) await post(seq++);

    const cpu0 = cpuSeconds(child.pid);
    const ownCpu0 = process.cpuUsage();
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const start = performance.now();
    const end = start + (fixed ? 60_000 : seconds * 1000);
    const last = fixed ? seq + fixed : Number.POSITIVE_INFINITY;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end && seq < last) {
          const r = await post(seq++).catch(() => ({ status: 0, ms: 0, t0: 0, trackingNo: undefined }));
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 202 && r.trackingNo) {
            latencies.push(r.ms);
            sentAt.set(r.trackingNo, r.t0);
          }
        }
      }),
    );
    const loadEnd = performance.now();
    const cpu1 = cpuSeconds(child.pid);
    const ownCpu = process.cpuUsage(ownCpu0);
    // Let the pipeline drain (bounded): every accepted report should reach a queue.
    const drainUntil = performance.now() + (fixed ? 60_000 : quick ? 8_000 : 10_000);
    while (performance.now() < drainUntil && [...sentAt.keys()].some((tn) => !arrivedAt.has(tn))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpu2 = cpuSeconds(child.pid);
    polling = false;
    await Promise.all(pollers);
    // The reports never seen on a department queue: their tracking status says why (a repeat merged into an open
    // case, 人工分拨 ... or not triaged yet). Bounded: at most 300 lookups, spread evenly over the run.
    const missing = [...sentAt.keys()].filter((tn) => !arrivedAt.has(tn));
    const whyMissing = new Map<string, number>();
    const stride = Math.max(1, Math.ceil(missing.length / 300));
    for (const tn of missing.filter((_, i) => i % stride === 0)) {
      const view = await fetch(`${info.url}/api/requests/${tn}`)
        .then((r) => r.json() as Promise<{ status?: string; department?: { id: string } | null }>)
        .catch(() => ({ status: 'lookup failed', department: null }));
      const key = `${view.status ?? 'unknown'}${view.department ? ' (with a department)' : ''}`;
      whyMissing.set(key, (whyMissing.get(key) ?? 0) + 1);
    }

    const accepted = latencies.length;
    const acceptedPerS = accepted / ((loadEnd - start) / 1000);
    const e2e = [...sentAt].filter(([tn]) => arrivedAt.has(tn)).map(([tn, t0]) => arrivedAt.get(tn)! - t0);
    const lastArrival = Math.max(...[...sentAt.keys()].map((tn) => arrivedAt.get(tn) ?? 0));
    const deliveredPerS = e2e.length / ((lastArrival - start) / 1000);
    const p50 = median(latencies);
    const p99 = quantile(latencies, 0.99);
    const cpuLoad = cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / ((loadEnd - start) / 1000) : undefined;
    const cpuPerReport =
      cpu0 !== undefined && cpu2 !== undefined && e2e.length ? ((cpu2 - cpu0) * 1000) / e2e.length : undefined;
    const other = [...statuses].filter(([s]) => s !== 202).map(([s, n]) => `${n}× ${s || 'network error'}`);
    const table: BenchTable = {
      title: `Local end to end: HTTP → department queue on the embedded stack (${fixed ? `${fixed} reports` : `${seconds} s`}, ${concurrency} in flight)`,
      columns: ['measure', 'result', 'target'],
      rows: [
        ['accepted reports/s (HTTP 202)', int(acceptedPerS), `≥ ${TARGET_RPS}`],
        ['HTTP answer p50', `${p50.toFixed(1)} ms`, ''],
        ['HTTP answer p99', `${p99.toFixed(1)} ms`, `≤ ${TARGET_P99_MS} ms`],
        ['reports/s reaching a department queue', int(deliveredPerS), `≥ ${TARGET_RPS}`],
        ['request → department queue p50', `${median(e2e).toFixed(0)} ms`, ''],
        ['request → department queue p99', `${quantile(e2e, 0.99).toFixed(0)} ms`, ''],
        ['reached a queue / accepted', `${e2e.length} / ${accepted}`, 'all'],
        ['stack CPU during the load', cpuLoad === undefined ? 'n/a' : `${(cpuLoad * 100).toFixed(0)}% of a core`, ''],
        [
          'load generator + department pollers CPU during the load',
          `${(((ownCpu.user + ownCpu.system) / 1000 / (loadEnd - start)) * 100).toFixed(0)}% of a core`,
          '',
        ],
        ['stack CPU per report, end to end', cpuPerReport === undefined ? 'n/a' : `${cpuPerReport.toFixed(1)} ms`, ''],
      ],
      notes: [
        '`npm start` in its own process on 127.0.0.1 (emulators, handlers, SQS pollers: one Node event loop, so one core ' +
          'at most); the load generator and the department pollers in this process. Bodies: the sample reports of ' +
          'bench/sample-reports.ts, each with its own Idempotency-Key.',
        `Accepted but not seen on a department queue: ${missing.length}` +
          (missing.length
            ? `; tracking status of ${[...whyMissing.values()].reduce((a, b) => a + b, 0)} of them (spread over the run): ${[...whyMissing].map(([k, n]) => `${n}× ${k}`).join(', ')}.`
            : '.'),
        `Answers other than 202: ${other.length ? other.join(', ') : 'none'}. The department side reads with long ` +
          'polls of 1 s, so request → queue includes up to one poll round trip.',
      ],
      figures: [
        {
          name: 'local e2e: accepted reports/s',
          value: int(acceptedPerS),
          target: `≥ ${TARGET_RPS}`,
          met: acceptedPerS >= TARGET_RPS,
        },
        {
          name: 'local e2e: HTTP answer p99',
          value: `${p99.toFixed(0)} ms`,
          target: `≤ ${TARGET_P99_MS} ms`,
          met: p99 <= TARGET_P99_MS,
        },
        {
          name: 'local e2e: reports/s to the department queue',
          value: int(deliveredPerS),
          target: `≥ ${TARGET_RPS}`,
          met: deliveredPerS >= TARGET_RPS && e2e.length === accepted,
        },
      ],
    };
    return [table];
  } finally {
    await stopStack(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
};

export default suite;
