/**
 * Fault injection on the whole intake → triage → bus → department queue path, in memory (see world.ts): the real
 * handlers and adapters, faults at the SDK boundary. For every scenario: every tracking number the client was given
 * ends as exactly one case, announced in exactly one queue (its department's, or manual triage), no duplicate case.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '#core/ports.ts';
import { mulberry32 } from '#core/random.ts';
import type { Reconciliation } from '#core/reconcile.ts';
import { getRuntime, setRuntime } from '#functions/lib/runtime.ts';
import { run as dept } from '../../../cli/commands/dept.ts';
import { run as verify } from '../../../cli/commands/verify.ts';
import type { Fault } from './fake-aws.ts';
import { runCli, type Submission, submissions, TABLE, World } from './world.ts';

/** A deterministic pseudo-random source, so a failing scenario can be replayed. */
const rng = mulberry32;

/**
 * How the same submissions group into cases when nothing fails (the dedupe engine merges 并案 incidents): the oracle
 * for "no duplicate case" under faults. Submission keys of each case, sorted.
 */
async function groupsWithoutFaults(subs: Submission[]): Promise<string[][]> {
  const clean = await new World().start();
  try {
    for (const s of subs) await clean.submit(s);
    await clean.pump();
    return groupsOf(clean, (await clean.verify()).rec);
  } finally {
    clean.stop();
  }
}

function groupsOf(w: World, rec: Reconciliation): string[][] {
  const keyOf = new Map([...w.accepted].flatMap(([key, tns]) => [...tns].map((tn) => [tn, key] as const)));
  const byCase = new Map<string, string[]>();
  for (const [tn, caseId] of rec.caseOf) byCase.set(caseId, [...(byCase.get(caseId) ?? []), keyOf.get(tn) ?? tn]);
  return [...byCase.values()].map((g) => g.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

async function assertClosedLoop(w: World, expectedGroups?: string[][]) {
  const { rec, lost, duplicated, placements } = await w.verify();
  expect(rec.violations).toEqual([]);
  expect(rec.pending).toEqual([]);
  expect(lost).toEqual([]);
  expect(duplicated).toEqual([]);
  // One tracking number per idempotency key, every number settled on one case.
  const numbers = [...w.accepted.values()].flatMap((s) => [...s]);
  expect(numbers.length).toBe(w.accepted.size);
  expect(rec.settled).toBe(numbers.length);
  // The same cases as without faults: no duplicate case, no lost merge.
  if (expectedGroups) expect(groupsOf(w, rec)).toEqual(expectedGroups);
  for (const p of placements)
    expect({ caseId: p.caseId, queues: p.queues }).toEqual({ caseId: p.caseId, queues: [p.expected] });
  // 考核数据: the daily aggregates hold exactly what a recount of the cases gives (nothing lost, nothing twice).
  const recount = await runCli(verify, ['--table', TABLE, '--grace', '0', '--metrics', '--json']);
  expect(JSON.parse(recount.stdout).metrics.mismatches).toEqual([]);
  return { rec, placements };
}

describe('Faults: the closed loop under injected failures (in memory, real handlers and adapters)', () => {
  let w: World;
  const expected = new Map<number, string[][]>();
  beforeAll(async () => {
    for (const n of [12, 24]) expected.set(n, await groupsWithoutFaults(submissions(n)));
  });
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('should place every report in exactly one queue with one copy when nothing fails', async () => {
    // Prepare
    for (const s of submissions(12)) await w.submit(s);
    // Act
    await w.pump();
    // Assess
    const { placements } = await assertClosedLoop(w, expected.get(12));
    expect(placements.every((p) => p.copies === 1)).toBe(true);
    expect(placements.some((p) => p.expected === 'triage')).toBe(true);
    expect(placements.some((p) => p.expected.startsWith('dept-'))).toBe(true);
  });

  it('should lose nothing and file nothing twice under DynamoDB throttling and timeouts (before and after a write)', async () => {
    // Prepare: a fifth of all table calls fail; a write may be applied and its answer lost.
    const r = rng(7);
    const kinds: Fault[] = ['throttle', 'timeout-before', 'timeout-after'];
    w.ddb.plan = () => (r() < 0.2 ? kinds[Math.floor(r() * 3)]! : 'none');
    // Act
    for (const s of submissions(24)) expect(await w.submit(s)).toBeDefined();
    await w.pump();
    // Reports that failed 5 times went to the DLQ (the alarm fires); the operator redrives after the outage.
    w.ddb.plan = () => 'none';
    w.redrive('intake-dlq');
    await w.pump();
    // Assess
    await assertClosedLoop(w, expected.get(24));
    expect(w.logs.some((l) => l.includes('injected'))).toBe(true);
  });

  it('should give one tracking number to a submission posted twice at once (a lost race on the conditional put)', async () => {
    // Prepare
    const [s] = submissions(1);
    // Act: a double click: both requests race; the second conditional put loses and reads the winner.
    const [a, b] = await Promise.all([w.submit(s!), w.submit(s!)]);
    await w.pump();
    // Assess
    expect(a).toBe(b);
    await assertClosedLoop(w);
  });

  it('should open one case when two consumers triage the same report (visibility expired, conditional create lost)', async () => {
    // Prepare
    for (const s of submissions(12)) await w.submit(s);
    let races = 0;
    // Act: every batch is processed twice concurrently.
    await w.pump({
      concurrentCopy: () => {
        races++;
        return true;
      },
    });
    // Assess
    expect(races).toBeGreaterThan(0);
    const { placements } = await assertClosedLoop(w, expected.get(12));
    // Both consumers may announce (the loser sees announcedVersion < version): a repeat with the same eventId.
    expect(placements.every((p) => p.copies >= 1 && p.copies <= 2)).toBe(true);
  });

  it('should re-send only failed PutEvents entries (FailedEntryCount) and answers lost after delivery', async () => {
    // Prepare
    const r = rng(11);
    w.eb.failEntries = (n) => Array.from({ length: n }, (_, i) => i).filter(() => r() < 0.3);
    w.eb.plan = () => (r() < 0.15 ? 'timeout-after' : 'none');
    // Act
    for (const s of submissions(24)) await w.submit(s);
    await w.pump();
    w.eb.failEntries = undefined;
    w.eb.plan = () => 'none';
    w.redrive('intake-dlq');
    await w.pump();
    // Assess
    await assertClosedLoop(w, expected.get(24));
  });

  it('should announce a case written just before a crash when the report is redelivered', async () => {
    // Prepare: the process dies right after the case write (the bus call never returns).
    const real = getRuntime().bus;
    let crashes = 2;
    const crashing: Bus = {
      publish: async (events) => {
        if (crashes-- > 0) throw new Error('injected: process crashed after the case write');
        return real.publish(events);
      },
    };
    setRuntime({ bus: crashing as never });
    const [s] = submissions(1);
    const tn = await w.submit(s!);
    // Act 1: the first delivery writes the case and crashes.
    const before = w.clockMs;
    w.sqs.now = w.clockMs;
    const batch = w.sqs.receive('intake', 10);
    await expect(
      (await import('#functions/triage.ts')).triageHandler({
        Records: batch.map((m) => ({ messageId: m.id, body: m.body })),
      } as never),
    ).rejects.toThrow(/crashed/);
    // Assess 1: the case is durable but owed, and no department has it yet.
    const c = await getRuntime().store.getCase(tn!);
    expect(c).toMatchObject({ version: 1, announcedVersion: 0 });
    expect([...w.deliveries().values()].flat()).toEqual([]);
    // Act 2: the message comes back after the visibility timeout; the second crash, then success.
    w.clockMs = before + 181_000;
    await w.pump();
    // Assess 2
    const { placements } = await assertClosedLoop(w);
    expect(placements[0]!.copies).toBe(1);
    expect((await getRuntime().store.getCase(tn!))?.announcedVersion).toBe(1);
  });

  it('should triage reports again after lost deletes (SQS redelivery) without a second case', async () => {
    // Prepare
    const r = rng(3);
    for (const s of submissions(24)) await w.submit(s);
    // Act: half the time the consumer dies before deleting its batch.
    await w.pump({ loseDelete: () => r() < 0.5 });
    // Assess
    const { placements } = await assertClosedLoop(w, expected.get(24));
    // Redelivered reports find their case announced: no repeat announcement.
    expect(placements.every((p) => p.copies === 1)).toBe(true);
  });

  it('should list an announcement whose mark was lost as owed, and let verify --repair re-announce it', async () => {
    // Prepare: every markAnnounced fails after the event went out (the write of the mark is throttled).
    w.ddb.plan = (op) => (op === 'UpdateItem:CASE' ? 'throttle' : 'none');
    for (const s of submissions(12)) await w.submit(s);
    await w.pump();
    w.ddb.plan = () => 'none';
    // Assess 1: delivered once, but the store still owes each announcement; verify says so and exits 1.
    const before = await w.verify();
    const owed = before.rec.violations.filter((v) => v.kind === 'ANNOUNCEMENT_OWED');
    expect(owed).toHaveLength(before.rec.cases);
    expect(before.rec.violations.length).toBe(owed.length);
    for (const p of before.placements) expect(p.copies).toBe(1);
    // Act: the operator's repair (grace 0: everything owed is overdue).
    const repaired = await runCli(verify, ['--table', TABLE, '--grace', '0', '--repair']);
    // Assess 2: one repeat per case, same eventId, same queue; the store is clean.
    expect(repaired.code).toBe(1);
    expect(repaired.stdout).toContain('ANNOUNCEMENT_OWED');
    expect(repaired.stdout).toContain('announced');
    const { placements } = await assertClosedLoop(w, expected.get(12));
    for (const p of placements) expect(p.copies).toBe(2);
    expect((await runCli(verify, ['--table', TABLE, '--grace', '0'])).code).toBe(0);
  });

  it('should send a poison message to the DLQ after maxReceiveCount without blocking its batch', async () => {
    // Prepare: poison sits in the queue first, in the same batches as good reports.
    w.sqs.send('intake', 'not json at all');
    w.sqs.send('intake', JSON.stringify({ report: { trackingNo: '20251128000001' } }));
    for (const s of submissions(12)) await w.submit(s);
    // Act
    const rounds = await w.pump();
    // Assess: good reports settled on the first pass; poison retried maxReceiveCount (5) times, then dead-lettered.
    await assertClosedLoop(w, expected.get(12));
    expect(w.sqs.bodies('intake-dlq')).toHaveLength(2);
    expect(rounds).toBeLessThanOrEqual(6);
    expect(w.logs.filter((l) => l.includes('malformed intake message')).length).toBe(10);
  });

  it('should keep accepting when SQS refuses the intake message, and triage the retry', async () => {
    // Prepare: the report is stored, then SQS refuses the message three times (the adapter's bound): 500.
    let refusals = 3;
    w.sqs.refuseEntries = (q, n) => (q === 'intake' && refusals-- > 0 ? [...Array(n).keys()] : []);
    const [s] = submissions(1);
    // Act: the client's first try fails; the retry with the same key gets the same number and queues it.
    const first = await w.post(s!.body, { 'idempotency-key': s!.key });
    const tn = await w.submit(s!);
    await w.pump();
    // Assess
    expect(first.status).toBe(500);
    expect(JSON.stringify(first.json)).not.toContain('refused');
    expect(tn).toMatch(/^\d{14}$/);
    await assertClosedLoop(w);
  });

  it('should deliver repeats of a replayed archive under the same eventId, and the department pull prints each once', async () => {
    // Prepare
    for (const s of submissions(12)) await w.submit(s);
    await w.pump();
    // Act: an EventBridge replay of the whole archive to the bus.
    const replayed = w.eb.replay();
    // Assess: every announcement now has a second copy, with the same eventId, in the same queue only.
    expect(replayed).toBe(expected.get(12)!.length);
    const { placements } = await assertClosedLoop(w, expected.get(12));
    expect(placements.every((p) => p.copies === 2)).toBe(true);
    const queue = placements.find((p) => p.expected.startsWith('dept-'))!.expected;
    const department = queue.slice(5);
    const inQueue = placements.filter((p) => p.expected === queue).length;
    const res = await runCli(dept, ['pull', '--department', department, '--json', '--wait', '0']);
    expect(res.code).toBe(0);
    const pulled = res.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(pulled).toHaveLength(inQueue);
    expect(new Set(pulled.map((p) => p.eventId)).size).toBe(inQueue);
    expect(w.sqs.bodies(queue)).toEqual([]);
  });
});
