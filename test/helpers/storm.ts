/**
 * A storm of citizen submissions against the local stack, and the audit after it (the same counting as
 * `cityloop verify`): for the fault-injection integration tests and `npm run soak`. Loopback only, bounded in
 * count and time.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type CaseFacts, type Reconciliation, reconcile, tallyAccepted } from '#core/reconcile.ts';
import type { StackInfo } from '#local/stack.ts';
import { scanStore } from '../../cli/commands/verify.ts';

export interface StormSubmission {
  key: string;
  body: Record<string, unknown>;
}

export interface StormResult {
  /** Idempotency key → tracking numbers answered 202 (one expected). */
  accepted: Map<string, Set<string>>;
  attempts: number;
  /** Answers ≥ 500, 429 and network errors (retried). */
  retried: number;
  /** Of which 429 (rate limited). */
  limited: number;
  /** Answers 4xx to valid submissions (should be none). */
  refused: number;
  /** Submissions never accepted before the deadline. */
  abandoned: number;
  /** Re-posts of an accepted submission (double clicks): answered with the same number? */
  repeats: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Posts every submission (Idempotency-Key = its key) with `concurrency` workers; 5xx and connection errors are
 * retried with the same key until `deadline`; `repeatEvery`-th submissions are posted again after acceptance.
 */
export async function storm(opts: {
  url: () => string;
  submissions: StormSubmission[];
  concurrency: number;
  deadline: number;
  repeatEvery?: number;
  extraHeaders?: (key: string) => Record<string, string>;
  /** Called after each acceptance with the number of submissions accepted so far. */
  onAccept?: (accepted: number) => void;
}): Promise<StormResult> {
  const out: StormResult = {
    accepted: new Map(),
    attempts: 0,
    retried: 0,
    limited: 0,
    refused: 0,
    abandoned: 0,
    repeats: 0,
  };
  let next = 0;
  const post = async (s: StormSubmission): Promise<string | 'refused' | undefined> => {
    out.attempts++;
    try {
      const res = await fetch(`${opts.url()}/api/requests`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': s.key,
          ...(opts.extraHeaders?.(s.key) ?? {}),
        },
        body: JSON.stringify(s.body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status === 202) return (JSON.parse(text) as { trackingNo: string }).trackingNo;
      if (res.status === 429) out.limited++;
      else if (res.status < 500) return 'refused';
    } catch {
      // connection refused / reset (the stack is restarting): retry
    }
    out.retried++;
    return undefined;
  };
  const worker = async () => {
    while (next < opts.submissions.length) {
      const i = next++;
      const s = opts.submissions[i]!;
      const posts = opts.repeatEvery && i % opts.repeatEvery === 0 ? 2 : 1;
      for (let p = 0; p < posts; p++) {
        let done = false;
        for (let backoff = 20; !done && Date.now() < opts.deadline; backoff = Math.min(backoff * 2, 500)) {
          const r = await post(s);
          if (r === 'refused') {
            out.refused++;
            done = true;
          } else if (r) {
            const set = out.accepted.get(s.key) ?? new Set<string>();
            set.add(r);
            out.accepted.set(s.key, set);
            if (p > 0) out.repeats++;
            else opts.onAccept?.(out.accepted.size);
            done = true;
          } else await sleep(backoff);
        }
        if (!done) {
          out.abandoned++;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return out;
}

export interface Envelope {
  'detail-type': string;
  detail: { eventId?: string; caseId?: string; department?: string };
}

/** Receives and deletes every message of every queue but intake (departments, triage, supervisors, DLQs). */
export async function collectQueues(info: StackInfo, skip: string[] = ['intake']): Promise<Map<string, Envelope[]>> {
  const sqs = new SQSClient({ endpoint: info.endpoints.sqs, region: info.region, useQueueUrlAsEndpoint: false });
  const out = new Map<string, Envelope[]>();
  for (const [id, url] of Object.entries(info.queues)) {
    if (skip.includes(id)) continue;
    const list: Envelope[] = [];
    for (let round = 0; round < 100_000; round++) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const msgs = got.Messages ?? [];
      if (msgs.length === 0) break;
      for (const m of msgs) {
        try {
          list.push(JSON.parse(m.Body ?? '') as Envelope);
        } catch {
          list.push({ 'detail-type': '(not an event)', detail: {} });
        }
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    out.set(id, list);
  }
  sqs.destroy();
  return out;
}

export interface Audit {
  rec: Reconciliation;
  cases: CaseFacts[];
  accepted: number;
  lost: string[];
  duplicated: string[];
  /** Cases whose first announcement is not in exactly its own queue (department or manual triage). */
  misplaced: { caseId: string; expected: string; queues: string[] }[];
  /** Extra copies of announcements (same eventId): at-least-once repeats, dropped by consumers. */
  repeatCopies: number;
}

/** Reconciles the store (as `cityloop verify` does) and places each case's first announcement in the queues. */
export async function audit(
  info: StackInfo,
  accepted: Map<string, Set<string>>,
  deliveries: Map<string, Envelope[]>,
): Promise<Audit> {
  const db = new DynamoDBClient({ endpoint: info.endpoints.dynamodb, region: info.region });
  const snap = await scanStore(db, info.tableName, 4);
  db.destroy();
  const rec = reconcile(snap.reports, snap.cases, { now: new Date(Date.now() + 3600_000), graceMinutes: 0 });
  const list = [...accepted].flatMap(([key, tns]) => [...tns].map((tn) => ({ trackingNo: tn, submission: key })));
  const { lost, duplicated } = tallyAccepted(rec, snap.reports, list);
  const where = new Map<string, Map<string, number>>();
  for (const [q, envs] of deliveries) {
    for (const e of envs) {
      const id = e.detail?.eventId;
      if (!id) continue;
      const m = where.get(id) ?? new Map<string, number>();
      m.set(q, (m.get(q) ?? 0) + 1);
      where.set(id, m);
    }
  }
  const misplaced: Audit['misplaced'] = [];
  let repeatCopies = 0;
  for (const c of snap.cases) {
    const triage = c.state === 'triage';
    const expected = triage ? 'triage' : `dept-${c.department}`;
    const first = `${c.caseId}:1:${triage ? 'Case.TriageRequired' : 'Case.Dispatched'}`;
    const m = where.get(first) ?? new Map<string, number>();
    const queues = [...m.keys()];
    repeatCopies += [...m.values()].reduce((a, b) => a + b, 0) - Math.min(1, m.size);
    if (queues.length !== 1 || queues[0] !== expected) misplaced.push({ caseId: c.caseId, expected, queues });
  }
  return { rec, cases: snap.cases, accepted: list.length, lost, duplicated, misplaced, repeatCopies };
}
