/**
 * AWS calls per accepted report on the hot path (`npm run bench -- aws-calls`), counted on the real handlers and SDK
 * clients against the local emulators (`aws-counter.ts`): the web intake function (`functions/http/requests.ts`), the
 * Lambda SQS event source (played here: receive ≤ 10, invoke, delete the batch), the triage consumer
 * (`functions/triage.ts`) and EventBridge rule delivery to the department queues. A realistic mix of submissions
 * (new problems, resubmissions, repeats, incidents) is measured busy (batches of 10) and quiet (batches of 1), each
 * kind alone too; then the cost model (`cost-model.ts`) prices it per million reports beside a naive design.
 * Target: ≤ 3 requests per report by our functions, amortized.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { TABLE_INDEXES } from '#core/topology.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { type AwsCall, AwsCallCounter, tally } from './aws-counter.ts';
import {
  type CostPerMillion,
  costPerMillion,
  LATENCY,
  type MeasuredFunction,
  type MeasuredPath,
  naivePath,
  ourRequestsPerReport,
  PRICES,
  usageOf,
} from './cost-model.ts';
import { type BenchAws, httpEvent, LAMBDA_CONTEXT, startBenchAws, useBenchAws } from './harness.ts';
import { DEFAULT_MIX, type Submission, type SubmissionKind, submissionMix } from './sample-reports.ts';
import type { BenchSuite, BenchTable } from './types.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

interface Handlers {
  web: Handler;
  triage: Handler;
}

interface PhaseResult {
  path: MeasuredPath;
  accepted: number;
  /** Receives that found the queue empty (the event source's idle polling, not per report). */
  emptyReceives: number;
  batches: number[];
  logBytes: number;
  errors: string[];
}

/**
 * A strongly consistent read of a key that holds no item still costs 1 RRU (GetItem is charged so by the counter);
 * the counter prices a BatchGetItem by the items it returned only. Every key asked costs at least 1 RRU: this is exact
 * when the items found are ≤ 4 KB each (the dedupe index items mostly are), a lower bound otherwise.
 */
function chargeMissingKeys(c: AwsCall): AwsCall {
  return c.service === 'dynamodb' && c.op === 'BatchGetItem' ? { ...c, rru: Math.max(c.rru, c.entries) } : c;
}

const memoryOf = (aws: BenchAws, id: string) => aws.topology.functions.find((f) => f.id === id)?.memoryMb ?? 512;

async function pool<T>(items: readonly T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function runPhase(
  aws: BenchAws,
  counter: AwsCallCounter,
  h: Handlers,
  subs: readonly Submission[],
  batchSize: number,
  logs: { bytes: number; errors: string[] },
): Promise<PhaseResult> {
  counter.reset();
  logs.bytes = 0;
  logs.errors.length = 0;
  const web: MeasuredFunction = {
    function: 'web-requests',
    scope: 'intake',
    memoryMb: memoryOf(aws, 'web-requests'),
    invocations: 0,
    rounds: 0,
  };
  const tri: MeasuredFunction = {
    function: 'triage',
    scope: 'triage',
    memoryMb: memoryOf(aws, 'triage'),
    invocations: 0,
    rounds: 0,
  };
  let accepted = 0;
  await pool(subs, 4, async (s) => {
    const event = httpEvent('POST', '/api/requests', '/api/requests', s.body, { 'idempotency-key': s.idempotencyKey });
    const { value, rounds } = await counter.run('intake', () => h.web(event, LAMBDA_CONTEXT));
    web.invocations++;
    web.rounds += rounds;
    if ((value as { statusCode?: number }).statusCode === 202) accepted++;
    else logs.errors.push(`intake answered ${(value as { statusCode?: number }).statusCode}`);
  });
  // The Lambda event source: receive up to `batchSize`, invoke, delete what did not fail.
  const url = aws.queueUrls.intake!;
  const batches: number[] = [];
  let emptyReceives = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const { value: out } = await counter.run('esm', () =>
      aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: batchSize, WaitTimeSeconds: 0 })),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      emptyReceives++;
      break;
    }
    batches.push(messages.length);
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:cityloop-intake',
        awsRegion: 'us-east-1',
      })),
    };
    const { value: res, rounds } = await counter.run('triage', () => h.triage(event, LAMBDA_CONTEXT));
    tri.invocations++;
    tri.rounds += rounds;
    const failed = new Set(
      ((res as { batchItemFailures?: { itemIdentifier: string }[] })?.batchItemFailures ?? []).map(
        (f) => f.itemIdentifier,
      ),
    );
    if (failed.size) logs.errors.push(`triage failed ${failed.size} of ${messages.length}`);
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length) {
      await counter.run('esm', () =>
        aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        ),
      );
    }
  }
  await aws.eb.drain();
  // Idle polls are not per-report work: keep them out of the path, count them apart.
  const calls = counter.calls.filter((c) => !(c.op === 'ReceiveMessage' && c.entries === 0)).map(chargeMissingKeys);
  return {
    path: { reports: subs.length, calls, functions: [web, tri] },
    accepted,
    emptyReceives,
    batches,
    logBytes: logs.bytes,
    errors: [...logs.errors],
  };
}

const f2 = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const usd = (x: number) => `$${x.toFixed(2)}`;

/** `DynamoDB PutItem RPT` / `SQS SendMessageBatch intake` …, who made it, per report. */
function breakdownRows(path: MeasuredPath): (string | number)[][] {
  const n = path.reports;
  const label = (c: AwsCall) =>
    c.service === 'dynamodb'
      ? `DynamoDB ${c.op}${c.item ? ` ${c.item}` : ''}${c.index ? ` (index ${c.index})` : ''}`
      : c.service === 'sqs'
        ? `SQS ${c.op}`
        : c.service === 'eventbridge'
          ? `EventBridge ${c.op}`
          : `${c.service} ${c.op}`;
  const rows = tally(path.calls as AwsCall[], (c) => `${label(c)}\t${c.scope}`).map((t) => {
    const [what, scope] = t.key.split('\t');
    const units =
      t.wru + t.indexWru > 0 || t.rru > 0
        ? [
            t.wru ? `${f2(t.wru / n)} WRU` : '',
            t.indexWru ? `+ ${f2(t.indexWru / n)} WRU (GSIs)` : '',
            t.rru ? `${f2(t.rru / n)} RRU` : '',
          ]
            .filter(Boolean)
            .join(' ')
        : t.billed
          ? `${f2(t.billed / n)} ${what!.startsWith('EventBridge') ? 'events' : 'requests'}`
          : '';
    return [
      what!,
      scope!,
      f2(t.calls / n),
      f2(t.entries / t.calls),
      units,
      t.failed ? `${t.failed} failed (condition)` : '',
    ];
  });
  return rows;
}

/** Write units per report by item kind, the table's and each GSI's, and the average item written. */
function writeUnitsTable(path: MeasuredPath, indexes: readonly string[]): BenchTable {
  const n = path.reports;
  const writes = (path.calls as AwsCall[]).filter((c) => c.service === 'dynamodb' && (c.wru > 0 || c.bytes > 0));
  const kinds = [...new Set(writes.map((c) => c.item ?? (c.op === 'BatchWriteItem' ? 'DDK (batch)' : c.op)))];
  const rows = kinds.map((kind) => {
    const cs = writes.filter((c) => (c.item ?? (c.op === 'BatchWriteItem' ? 'DDK (batch)' : c.op)) === kind);
    const written = cs.filter((c) => c.bytes > 0);
    const perIndex = indexes.map((ix) => f2(cs.reduce((s, c) => s + (c.indexWru[ix] ?? 0), 0) / n));
    return [
      kind,
      f2(cs.reduce((s, c) => s + c.wru, 0) / n),
      ...perIndex,
      written.length
        ? `${(written.reduce((s, c) => s + c.bytes / c.entries, 0) / written.length / 1024).toFixed(2)} KB`
        : '',
    ];
  });
  return {
    title: 'Where the DynamoDB write units go (per report, realistic mix, busy)',
    columns: ['item (pk prefix)', 'table WRU', ...indexes.map((i) => `GSI ${i}`), 'avg item written'],
    rows,
    notes: [
      'GSI writes are sized by the projection infra/stack.ts declares (GSI_PROJECTIONS, mirrored in cost-model.ts; the ' +
        'local emulators create every index with ALL): gsi1, gsi2, gsi3 and reqday project ALL (their readers use the ' +
        'document from the index), so each write of a case item is paid again in gsi3 and reqday; due carries only ' +
        '`version` (the sweep re-reads every due case): about 1 WRU per entry.',
      'AGGMON items grow during their day: so that a retried transition counts once, each keeps the highest version ' +
        'it counted per CASE (a top-level attribute `@<caseId>`, 17 bytes with a 14-digit case id), where it kept a ' +
        'token per TRANSITION before (`<caseId>@<version>`, 16 bytes), and an update is billed by the item’s size. ' +
        'Sized by the rules this bench uses (cost-model.ts itemSize), on an item with every counter set (0.39 KB), an ' +
        'update after N cases × M transitions each costs, old → new: 100 × 5: 9 → 3 WRU; 500 × 5: 40 → 9; ' +
        '1,000 × 8: 126 → 18 (1 WRU up to 36 cases now, 7 cases of 5 transitions before). This short run keeps them ' +
        'small. Not in the cost model.',
    ],
  };
}

function costRows(columns: CostPerMillion[]): (string | number)[][] {
  const keys: (keyof CostPerMillion)[] = ['lambda', 'dynamodb', 'eventbridge', 'sqs', 'total'];
  const names: Record<string, string> = {
    lambda: 'Lambda (requests + GB-s, Arm)',
    dynamodb: 'DynamoDB on-demand (WRU + RRU)',
    eventbridge: 'EventBridge custom events',
    sqs: 'SQS standard requests',
    total: 'total per million reports',
  };
  return keys.map((k) => [names[k]!, ...columns.map((c) => usd(c[k]))]);
}

/** Runs `fn` against fresh emulators (state from one phase must not change another's lookups). */
async function withFreshAws<T>(
  counter: AwsCallCounter,
  logs: { bytes: number; errors: string[] },
  fn: (aws: BenchAws, h: Handlers) => Promise<T>,
): Promise<T> {
  const aws = await startBenchAws({ wrapDelivery: async (f) => (await counter.run('delivery', f)).value });
  try {
    await useBenchAws(aws);
    setLogSink((line) => {
      logs.bytes += Buffer.byteLength(line, 'utf8') + 1;
      if (line.includes('"level":"error"')) logs.errors.push(line.slice(0, 300));
    });
    const h: Handlers = {
      web: (await import('#functions/http/requests.ts')).handler as unknown as Handler,
      triage: (await import('#functions/triage.ts')).handler as unknown as Handler,
    };
    return await fn(aws, h);
  } finally {
    await aws.stop();
  }
}

const suite: BenchSuite = async ({ quick }) => {
  const counter = new AwsCallCounter().install();
  const logs = { bytes: 0, errors: [] as string[] };
  const envBefore = { ...process.env };
  try {
    const n = quick ? 40 : 80;
    const mix = submissionMix(n, DEFAULT_MIX, 11);
    const busy = await withFreshAws(counter, logs, (aws, h) => runPhase(aws, counter, h, mix, 10, logs));
    // Quiet hours: the first half of the same submissions, one message per triage invocation.
    const quiet = await withFreshAws(counter, logs, (aws, h) =>
      runPhase(aws, counter, h, mix.slice(0, n / 2), 1, logs),
    );

    // Each kind alone (busy), on one stack: new problems first, then resubmissions/repeats/incidents of them.
    const k = quick ? 8 : 12;
    const base = submissionMix(k, { new: 1, resubmission: 0, repeat: 0, incident: 0 }, 13);
    const kinds: [SubmissionKind, Submission[]][] = [['new', base]];
    for (const kind of ['resubmission', 'repeat', 'incident'] as const) {
      kinds.push([
        kind,
        base.map((s, i) =>
          kind === 'resubmission'
            ? { ...s, kind }
            : kind === 'repeat'
              ? {
                  kind,
                  body: { ...s.body, text: `${s.body.text} 再次反映，仍未处理。` },
                  idempotencyKey: `${s.idempotencyKey}-r`,
                }
              : {
                  kind,
                  body: {
                    ...s.body,
                    citizen: { phone: `1390000${String(1000 + i).padStart(4, '0')}` },
                    text: `我也反映：${s.body.text}`,
                  },
                  idempotencyKey: `${s.idempotencyKey}-i`,
                },
        ),
      ]);
    }
    const perKind = await withFreshAws(counter, logs, async (aws, h) => {
      const out: [SubmissionKind, PhaseResult][] = [];
      for (const [kind, subs] of kinds) out.push([kind, await runPhase(aws, counter, h, subs, 10, logs)]);
      return out;
    });

    const indexNames = TABLE_INDEXES.map((i) => i.name);
    const ours = ourRequestsPerReport(busy.path);
    const naive = naivePath(busy.path);
    const costs = [
      costPerMillion(usageOf(busy.path)),
      costPerMillion(usageOf(quiet.path)),
      costPerMillion(usageOf(naive)),
    ];
    const u = usageOf(busy.path);
    const avgBatch = busy.batches.reduce((s, x) => s + x, 0) / Math.max(1, busy.batches.length);
    const mixText = Object.entries(DEFAULT_MIX)
      .map(([kk, v]) => `${Math.round(v * 100)}% ${kk}`)
      .join(', ');
    const errors = [...busy.errors, ...quiet.errors, ...perKind.flatMap(([, r]) => r.errors)];
    const calls: BenchTable = {
      title: `AWS calls per accepted report, realistic mix (${n} submissions: ${mixText}; triage batches of ${avgBatch.toFixed(1)})`,
      columns: ['call', 'made by', 'calls / report', 'entries / call', 'capacity or billed / report', 'note'],
      rows: [
        ...breakdownRows(busy.path),
        [
          'requests by our functions (DynamoDB + PutEvents + SQS sends)',
          'intake + triage',
          f2(ours),
          '',
          '',
          'target ≤ 3',
        ],
        ['DynamoDB capacity', '', '', '', `${f2(u.dynamoWru)} WRU, ${f2(u.dynamoRru)} RRU`, 'GSI writes included'],
      ],
      notes: [
        'made by: intake = web-requests handler, triage = triage consumer, esm = the Lambda SQS event source (receive ' +
          'and delete, billed to us as SQS requests), delivery = EventBridge rule targets sending to department queues.',
        'Capacity from item sizes by the on-demand rules (1 WRU per KB written, the larger of before/after; 1 RRU per ' +
          '4 KB strongly consistent, ½ eventually; a failed condition costs the existing item), and the writes each GSI ' +
          'takes (sized by the projection infra/stack.ts declares). BatchGetItem: at least 1 RRU per key asked, found ' +
          'or not (the dedupe index is read by key, and most keys hold nothing yet).',
        `Idle polling: ${busy.emptyReceives + quiet.emptyReceives} empty receives here; on AWS the event source long-polls ` +
          'an idle queue about 15 times a minute per poller, whatever the traffic (≈ $0.26 a month), so it is left out.',
        `Logs: ${f2(busy.logBytes / n)} bytes per report (CloudWatch Logs ingestion, not in the model: $0.50 per GB ≈ ` +
          `${usd(((busy.logBytes / n) * 1e6 * 0.5) / 2 ** 30)} per million reports).` +
          (errors.length ? ` Errors seen: ${errors.length} (first: ${errors[0]}).` : ' No errors.'),
      ],
      figures: [
        {
          name: 'AWS requests per report by our functions (amortized)',
          value: f2(ours),
          target: '≤ 3',
          met: ours <= 3,
        },
        { name: 'DynamoDB write units per report', value: f2(u.dynamoWru), target: '–' },
      ],
    };
    const kindTable: BenchTable = {
      title: `AWS calls per submission, by kind (${k} each, after ${k} new ones; triage batches of 10)`,
      columns: [
        'kind',
        'intake calls',
        'triage calls',
        'esm + delivery',
        'ours / report',
        'WRU',
        'RRU',
        'EventBridge events',
      ],
      rows: perKind.map(([kind, r]) => {
        const by = (scope: string) => r.path.calls.filter((c) => c.scope === scope).length / r.path.reports;
        const uk = usageOf(r.path);
        return [
          kind,
          f2(by('intake')),
          f2(by('triage')),
          f2(by('esm') + by('delivery')),
          f2(ourRequestsPerReport(r.path)),
          f2(uk.dynamoWru),
          f2(uk.dynamoRru),
          f2(uk.events),
        ];
      }),
      notes: [
        'resubmission = the same form again (same Idempotency-Key): the report write fails its condition and returns ' +
          'the stored report (ReturnValuesOnConditionCheckFailure; dynalite does not return it, so here it is read: ' +
          '1 GetItem that AWS saves); one small read of the case named after it, and it is not queued again once ' +
          'that case exists (or the report is linked to one). repeat = ' +
          'the same citizen again with a new form; incident = another citizen at the same place (a merged report ' +
          'announces no new case: no EventBridge event).',
      ],
    };
    const costTable: BenchTable = {
      title: 'Cost per million reports (USD, on-demand list prices)',
      columns: [
        'service',
        'CityLoop, busy (batches of 10)',
        'CityLoop, quiet (batches of 1)',
        'naive (one call per step)',
      ],
      rows: [
        ...costRows(costs),
        [
          'requests by our functions / report',
          f2(ours),
          f2(ourRequestsPerReport(quiet.path)),
          f2(ourRequestsPerReport(naive)),
        ],
      ],
      notes: [
        `Prices: ${PRICES.source}: Lambda Arm $${PRICES.lambdaArmGbSecond} per GB-s + $0.20 per million requests; ` +
          'DynamoDB on-demand $0.625 per million WRU, $0.125 per million RRU; EventBridge $1.00 per million events ' +
          '(64 KB chunks); SQS standard $0.40 per million requests (64 KB chunks). Editable in bench/cost-model.ts.',
        `Lambda duration is modelled, not timed on the emulators: ${LATENCY.invocationOverheadMs} ms per invocation + ` +
          `sequential AWS rounds × ${LATENCY.awsCallMs} ms + ${LATENCY.cpuPerReportMs} ms CPU per report, billed by the ` +
          'ms at the memory in core/topology.ts; the rounds are counted (calls in flight going 0 → 1).',
        'Naive: every batched call becomes one call per entry, triage takes one message per invocation and reads the ' +
          'report from the table, tracking numbers are reserved one by one, every call awaited in turn.',
        'Not in the model: CloudWatch Logs (above), X-Ray traces, KMS (the table key is cached by DynamoDB), API Gateway ' +
          '($1.00 per million HTTP API requests, the same for every design), data transfer.',
      ],
      figures: [
        { name: 'cost per million reports, busy', value: usd(costs[0]!.total), target: '–' },
        { name: 'cost per million reports, naive design', value: usd(costs[2]!.total), target: '–' },
      ],
    };
    return [calls, writeUnitsTable(busy.path, indexNames), kindTable, costTable];
  } finally {
    setLogSink((line) => process.stdout.write(`${line}\n`));
    counter.uninstall();
    for (const key of Object.keys(process.env)) if (!(key in envBefore)) delete process.env[key];
    Object.assign(process.env, envBefore);
    const { resetAwsClients } = await import('#functions/lib/runtime.ts');
    resetAwsClients();
  }
};

export default suite;
