/**
 * `cityloop dlq list [--queue <dlq id>] [--sample N] [--json]`
 *   Depth (visible + in flight) of every dead-letter queue, and a sample of each with citizen data masked.
 *   Sampling receives with a short visibility timeout and releases at once; DLQs have no redrive policy, so this
 *   never moves a message.
 *
 * `cityloop dlq redrive --queue <dlq id> [--max N] [--dry-run] [--to <queue id>]`
 *   Moves messages back to where they failed: a queue's DLQ to that queue (`intake-dlq` → `intake`, `dept-x-dlq` →
 *   `dept-x` …); the rules' DLQ (`rule-dlq`, events EventBridge could not deliver) to the target the event was meant
 *   for: the `TARGET_ARN` message attribute EventBridge sets on AWS, else every queue whose topology rule matches the
 *   event (a target that already had it gets a repeat, which consumers drop by eventId).
 *   Safe by order: each batch is SENT to the source first and DELETED from the DLQ only after SQS accepted it. A crash
 *   in between leaves a copy in both, and the copy in the DLQ is sent again on the next redrive: harmless, because
 *   every consumer is idempotent (triage by the report's idempotency key, departments by eventId). A message that
 *   fails again returns to the DLQ after maxReceiveCount receives. `--dry-run` shows what would move, moves nothing.
 *
 * Target: the running local stack (its `stack.json`), or AWS with `QUEUE_URL_<ID>` env for the queues involved.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { sqsClientConfig } from '#adapters/sqs/queue.ts';
import { compilePattern } from '#core/eventbridge/pattern.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, queueEnvName, type Topology } from '#core/topology.ts';
import { int, parseArgs, str, UsageError } from '../lib/args.ts';
import { type Subcommand, subcommands } from '../lib/command.ts';
import { maskBody } from '../lib/mask.ts';
import { localStackInfo, useLocalStack } from '../lib/stack.ts';

export const summary = '死信队列 dead-letter queues: list depth and masked samples, redrive safely to the source';

export const USAGE = `用法 usage:
  cityloop dlq list [--queue <dlq id>] [--sample N (3)] [--json]
  cityloop dlq redrive --queue <dlq id> [--max N (100)] [--dry-run] [--to <queue id>]
  死信队列 DLQs: ${buildTopology(defaultDepartments)
    .queues.filter((q) => q.kind === 'dlq')
    .map((q) => q.id)
    .join(', ')}`;

/**
 * Messages looked at are made visible again after this many seconds rather than 0: the local SQS emulator (fauxqs
 * 2.4 with persistence) drops a message released with a visibility timeout of 0 (its SQLite update fails); 1 s works
 * the same everywhere.
 */
const RELEASE_SECONDS = 1;

export const RULE_DLQ = 'rule-dlq';

/** Where a DLQ's messages came from: the queue whose redrive policy names it (none for the rules' DLQ). */
export function sourceOf(topology: Topology, dlqId: string): string | undefined {
  return topology.queues.find((q) => q.dlq === dlqId)?.id;
}

/** The queues a dead-lettered EventBridge event was meant for, by the topology's rules. */
export function targetsOfEvent(topology: Topology, body: string): string[] {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const r of topology.rules) if (compilePattern(r.pattern)(event)) out.add(r.targetQueue);
  return [...out];
}

interface Queues {
  urlOf(queueId: string): string | undefined;
  sqs: SQSClient;
}

function queues(): Queues {
  const info = localStackInfo();
  if (info) {
    useLocalStack(info);
    return {
      urlOf: (id) => process.env[queueEnvName(id)] ?? info.queues[id],
      sqs: new SQSClient(sqsClientConfig({ endpoint: process.env.AWS_ENDPOINT_URL_SQS ?? info.endpoints.sqs })),
    };
  }
  return { urlOf: (id) => process.env[queueEnvName(id)], sqs: new SQSClient(sqsClientConfig()) };
}

function requireUrl(q: Queues, id: string): string {
  const url = q.urlOf(id);
  if (!url) {
    throw new UsageError(
      `队列地址未知 no URL for queue ${id}: run \`npm start\` (local stack) or set ${queueEnvName(id)} for AWS`,
    );
  }
  return url;
}

async function depth(q: Queues, url: string): Promise<{ visible: number; inFlight: number }> {
  const out = await q.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function receive(q: Queues, url: string, max: number, visibility: number): Promise<Message[]> {
  const got: Message[] = [];
  for (let round = 0; got.length < max && round < Math.ceil(max / 10) + 2; round++) {
    const out = await q.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, max - got.length),
        VisibilityTimeout: visibility,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    const batch = out.Messages ?? [];
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return got;
}

async function release(q: Queues, url: string, messages: Message[]): Promise<void> {
  const handles = messages.map((m) => m.ReceiptHandle).filter((h): h is string => Boolean(h));
  for (let i = 0; i < handles.length; i += 10) {
    await q.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: handles
            .slice(i, i + 10)
            .map((h, k) => ({ Id: String(k), ReceiptHandle: h, VisibilityTimeout: RELEASE_SECONDS })),
        }),
      )
      .catch(() => undefined);
  }
}

function sampleLine(m: Message): Record<string, unknown> {
  return {
    messageId: m.MessageId,
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
    ...(m.Attributes?.SentTimestamp ? { sentAt: new Date(Number(m.Attributes.SentTimestamp)).toISOString() } : {}),
    ...(m.MessageAttributes?.ERROR_CODE?.StringValue ? { error: m.MessageAttributes.ERROR_CODE.StringValue } : {}),
    body: maskBody(m.Body ?? '', 120),
  };
}

async function list(args: string[]): Promise<number> {
  const p = parseArgs(args, { values: ['queue', 'sample'], booleans: ['json'] });
  const topology = buildTopology(defaultDepartments);
  const dlqs = topology.queues.filter((x) => x.kind === 'dlq').map((x) => x.id);
  const only = str(p, 'queue');
  if (only && !dlqs.includes(only)) throw new UsageError(`不是死信队列 not a DLQ: ${only}`);
  const sample = Math.min(int(p, 'sample', 3), 10);
  const q = queues();
  const rows: Record<string, unknown>[] = [];
  let total = 0;
  for (const id of only ? [only] : dlqs) {
    const url = q.urlOf(id);
    if (!url) {
      rows.push({ queue: id, error: `no URL (${queueEnvName(id)})` });
      continue;
    }
    const d = await depth(q, url);
    total += d.visible + d.inFlight;
    const samples = sample > 0 && d.visible > 0 ? await receive(q, url, sample, 5) : [];
    await release(q, url, samples);
    rows.push({
      queue: id,
      source: id === RULE_DLQ ? 'EventBridge rule targets' : sourceOf(topology, id),
      ...d,
      samples: samples.map(sampleLine),
    });
  }
  if (p.flags.json === true) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    for (const r of rows) {
      if (r.error) {
        process.stdout.write(`${String(r.queue).padEnd(24)} ${r.error}\n`);
        continue;
      }
      process.stdout.write(
        `${String(r.queue).padEnd(24)} 积压 ${r.visible}${r.inFlight ? ` (+${r.inFlight} in flight)` : ''}  ← ${r.source}\n`,
      );
      for (const s of r.samples as Record<string, unknown>[]) process.stdout.write(`    ${JSON.stringify(s)}\n`);
    }
    process.stderr.write(`死信合计 ${total} message(s) in dead-letter queues\n`);
  }
  return 0;
}

async function queueUrlOfArn(q: Queues, arn: string): Promise<string | undefined> {
  // arn:<partition>:sqs:<region>:<account>:<name>
  const parts = arn.split(':');
  const name = parts[5];
  if (parts[2] !== 'sqs' || !name) return undefined;
  const out = await q.sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: parts[4] }));
  return out.QueueUrl;
}

async function redrive(args: string[]): Promise<number> {
  const p = parseArgs(args, { values: ['queue', 'max', 'to'], booleans: ['dry-run', 'json'] });
  const topology = buildTopology(defaultDepartments);
  const dlq = str(p, 'queue');
  if (!dlq) throw new UsageError('--queue is required');
  if (!topology.queues.some((x) => x.id === dlq && x.kind === 'dlq'))
    throw new UsageError(`不是死信队列 not a DLQ: ${dlq}`);
  const to = str(p, 'to');
  if (to && !topology.queues.some((x) => x.id === to && x.kind !== 'dlq')) throw new UsageError(`unknown queue ${to}`);
  const max = int(p, 'max', 100);
  const dry = p.flags['dry-run'] === true;
  const q = queues();
  const dlqUrl = requireUrl(q, dlq);
  const fixedSource = to ?? sourceOf(topology, dlq);
  let moved = 0;
  let unroutable = 0;
  const plan: Record<string, number> = {};
  const held: Message[] = [];
  // Receive in batches of ≤10 with a visibility long enough to send and delete; nothing is deleted before the send.
  while (moved + unroutable < max) {
    const batch = await receive(q, dlqUrl, Math.min(10, max - moved - unroutable), 60);
    if (batch.length === 0) break;
    const byTarget = new Map<string, Message[]>();
    const keep: Message[] = [];
    for (const m of batch) {
      let targets: string[] = [];
      if (fixedSource) targets = [requireUrl(q, fixedSource)];
      else {
        const arn = m.MessageAttributes?.TARGET_ARN?.StringValue;
        const viaArn = arn ? await queueUrlOfArn(q, arn) : undefined;
        targets = viaArn ? [viaArn] : targetsOfEvent(topology, m.Body ?? '').map((id) => requireUrl(q, id));
      }
      if (targets.length === 0) {
        keep.push(m);
        continue;
      }
      for (const t of targets) {
        const list = byTarget.get(t) ?? [];
        list.push(m);
        byTarget.set(t, list);
      }
    }
    unroutable += keep.length;
    for (const m of keep) {
      process.stderr.write(`无法判断去向，保留 kept (no target for this message): ${m.MessageId}\n`);
    }
    if (dry) {
      // Held (invisible) until the end, so the next receive cannot return the same messages.
      held.push(...batch);
      for (const [t, ms] of byTarget) plan[t] = (plan[t] ?? 0) + ms.length;
      moved += batch.length - keep.length;
      continue;
    }
    // 1. Send to every target; a message counts as sent only when each of its targets accepted it.
    const notSent = new Set<string>();
    for (const [url, ms] of byTarget) {
      const out = await q.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: ms.map((m, k) => ({ Id: String(k), MessageBody: m.Body ?? '' })),
        }),
      );
      for (const f of out.Failed ?? []) {
        const m = ms[Number(f.Id)];
        if (m?.MessageId) notSent.add(m.MessageId);
      }
      plan[url] = (plan[url] ?? 0) + ms.length - (out.Failed?.length ?? 0);
    }
    // 2. Delete from the DLQ only what was sent.
    const sent = batch.filter((m) => !keep.includes(m) && !notSent.has(m.MessageId ?? ''));
    if (sent.length > 0) {
      await q.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: sent.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    // Kept and unsent messages stay invisible until the end of the run (not received again by this run).
    held.push(...keep, ...batch.filter((m) => notSent.has(m.MessageId ?? '')));
    moved += sent.length;
    if (notSent.size > 0) {
      process.stderr.write(`发送失败 ${notSent.size} message(s) not accepted by the target, left in ${dlq}\n`);
      break;
    }
  }
  await release(q, dlqUrl, held);
  const summaryLine = `${dry ? '演练 dry run: would move' : '已转回 moved'} ${moved} message(s) from ${dlq}${unroutable ? `, ${unroutable} kept (no target)` : ''}`;
  if (p.flags.json === true)
    process.stdout.write(`${JSON.stringify({ dlq, dryRun: dry, moved, unroutable, to: plan })}\n`);
  else {
    for (const [url, n] of Object.entries(plan)) process.stdout.write(`  → ${url}: ${n}\n`);
    process.stdout.write(`${summaryLine}\n`);
  }
  return 0;
}

const SUBCOMMANDS: Record<string, Subcommand> = { list, redrive };

export const run: (args: string[]) => Promise<number> = subcommands(SUBCOMMANDS, USAGE);
