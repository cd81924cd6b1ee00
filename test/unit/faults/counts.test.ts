/**
 * 考核数据 (the daily aggregates) as an outbox on the case, under faults: every writer records on the case it writes
 * the transition it owes, counts it after the write and drops it once counted (`core/sla/case-metrics.ts`). A count
 * that fails, or a mark that is lost, stays on the case and is made by whoever meets the case next: triage on a
 * redelivered report, the next department step, the sweep. After each scenario the aggregates equal a recount of the
 * cases, and no case still owes anything. In memory: the real handlers, services and adapters, faults at the SDK.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import type { Actor } from '#core/lifecycle/types.ts';
import { caseService } from '#functions/lib/case-context.ts';
import { getRuntime } from '#functions/lib/runtime.ts';
import { run as verify } from '../../../cli/commands/verify.ts';
import { runCli, submissions, TABLE, World } from './world.ts';

/** The case items still owing the aggregates, read from the fake table as stored (attribute values, not docs). */
function owingItems(w: World): string[] {
  return [...w.ddb.items.values()]
    .map((i) => i as { sk?: string; pk?: string; metricsOwed?: unknown[] })
    .filter((i) => i.sk === 'CASE' && Array.isArray(i.metricsOwed) && i.metricsOwed.length > 0)
    .map((i) => String(i.pk));
}

async function mismatches(): Promise<unknown[]> {
  const r = await runCli(verify, ['--table', TABLE, '--grace', '0', '--metrics', '--json']);
  return JSON.parse(r.stdout).metrics.mismatches;
}

/** The department cases triage dispatched (state `dispatched`), as stored. */
async function dispatched(w: World): Promise<Case[]> {
  const out: Case[] = [];
  for (const tns of w.accepted.values()) {
    for (const tn of tns) {
      const c = await getRuntime().store.getCase(tn);
      if (c?.state === 'dispatched' && c.department) out.push(c);
    }
  }
  return out;
}

const staff = (c: Case): Actor => ({ role: 'department', id: 'd-1', department: c.department as string });

describe('Faults: the daily aggregates as an outbox on the case', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
  });
  afterEach(() => w.stop());

  it('should count new cases once when triage cannot count them (reports handed back, counted on redelivery)', async () => {
    // Prepare: every aggregate update fails, or is applied with its answer lost, half the time.
    let n = 0;
    w.ddb.plan = (op) => (op === 'UpdateItem:AGGMON' ? (n++ % 2 === 0 ? 'throttle' : 'timeout-after') : 'none');
    for (const s of submissions(12)) await w.submit(s);
    // Act
    await w.pump();
    w.ddb.plan = () => 'none';
    w.redrive('intake-dlq');
    await w.pump();
    // Assess
    expect(await mismatches()).toEqual([]);
    expect(owingItems(w)).toEqual([]);
    const { rec } = await w.verify();
    expect(rec.violations).toEqual([]);
    expect(rec.settled).toBe(12);
  });

  it('should keep a step whose count failed, and count it with the next step, once', async () => {
    // Prepare: triaged without faults; then the aggregates refuse every update while departments sign.
    for (const s of submissions(12)) await w.submit(s);
    await w.pump();
    const cases = await dispatched(w);
    expect(cases.length).toBeGreaterThan(0);
    w.ddb.plan = (op) => (op === 'UpdateItem:AGGMON' ? 'throttle' : 'none');
    // Act 1: each 签收 succeeds for the department; its count stays owed on the case.
    for (const c of cases) await caseService().act(c.caseId, { type: 'sign' }, staff(c));
    // Assess 1
    expect(owingItems(w).length).toBe(cases.length);
    expect((await mismatches()).length).toBeGreaterThan(0);
    // Act 2: the store is back; the next step (先行联系) counts both transitions.
    w.ddb.plan = () => 'none';
    for (const c of cases) await caseService().act(c.caseId, { type: 'contact' }, staff(c));
    // Assess 2
    expect(owingItems(w)).toEqual([]);
    expect(await mismatches()).toEqual([]);
  });

  it('should not count twice when the counts went through but the mark was lost', async () => {
    // Prepare: every case mark is applied and its answer lost (the SDK sees an error, the item changed).
    for (const s of submissions(12)) await w.submit(s);
    await w.pump();
    const cases = await dispatched(w);
    w.ddb.plan = (op) => (op === 'UpdateItem:CASE' ? 'timeout-before' : 'none');
    // Act: 签收 counted, mark lost (the case still owes it); then 先行联系 counts it again under the same token.
    for (const c of cases) await caseService().act(c.caseId, { type: 'sign' }, staff(c));
    const owingAfterSign = owingItems(w).length;
    w.ddb.plan = () => 'none';
    for (const c of cases) await caseService().act(c.caseId, { type: 'contact' }, staff(c));
    // Assess
    expect(owingAfterSign).toBe(cases.length);
    expect(owingItems(w)).toEqual([]);
    expect(await mismatches()).toEqual([]);
  });

  it('should let the sweep count what a case owes when it meets the case at its next timer', async () => {
    // Prepare: signed while the aggregates refuse updates; nobody touches the cases again.
    for (const s of submissions(6)) await w.submit(s);
    await w.pump();
    const cases = await dispatched(w);
    w.ddb.plan = (op) => (op === 'UpdateItem:AGGMON' ? 'throttle' : 'none');
    for (const c of cases) await caseService().act(c.caseId, { type: 'sign' }, staff(c));
    w.ddb.plan = () => 'none';
    expect(owingItems(w).length).toBe(cases.length);
    // Act: five days later their timers are past; the sweep fires them and counts what is owed.
    w.clockMs += 5 * 86_400_000;
    const { sweepHandler } = await import('#functions/sweep.ts');
    const out = await sweepHandler();
    // Assess
    expect(out.sla?.recounted).toBe(cases.length);
    expect(owingItems(w)).toEqual([]);
    expect(await mismatches()).toEqual([]);
  });
});
