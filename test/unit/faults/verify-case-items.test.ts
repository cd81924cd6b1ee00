/**
 * `cityloop verify` on the case items themselves: `METRICS_OWED` (a count of the daily aggregates that never finished,
 * after the grace period) and `STALE_INDEX_KEYS` (index attributes that differ from what the store writes today, e.g.
 * a case written before the `pending` index existed), found and repaired over the in-memory AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseIndexAttributes, DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case, MetricsOwed } from '#core/case.ts';
import { owedTransitions } from '#core/sla/case-metrics.ts';
import { type CaseItemFacts, caseItemFactsOf, checkCaseItems, run as verify } from '../../../cli/commands/verify.ts';
import { runCli, submissions, TABLE, World } from './world.ts';

const NOW = new Date('2025-11-28T12:00:00+08:00');
const facts = (id: string, extra: Partial<CaseItemFacts> = {}): CaseItemFacts => ({
  caseId: id,
  trackingNo: id,
  version: 2,
  updatedAt: '2025-11-28T10:00:00.000+08:00',
  metricsOwed: 0,
  staleKeys: [],
  ...extra,
});

const docCase = (): Case =>
  ({
    caseId: '20251128000001',
    trackingNo: '20251128000001',
    version: 3,
    state: 'signed',
    department: 'chengguan',
    receivedAt: '2025-11-28T09:00:00.000+08:00',
    updatedAt: '2025-11-28T10:00:00.000+08:00',
    history: [],
    pending: {
      kind: 'extension',
      reason: '需协调施工单位',
      requestedAt: '2025-11-28T10:00:00.000+08:00',
      requestedBy: { role: 'department', id: 'u1' },
      dueAt: '2025-12-05T18:00:00.000+08:00',
    },
  }) as unknown as Case;

describe('Function: checkCaseItems', () => {
  it('should report a case owing counts only once its last change is older than the grace period', () => {
    // Prepare
    const items = [
      facts('A', { metricsOwed: 1 }),
      facts('B', { metricsOwed: 2, updatedAt: '2025-11-28T11:50:00.000+08:00' }),
      facts('C', { metricsOwed: 1, updatedAt: 'not a date' }),
      facts('D'),
    ];
    // Act
    const check = checkCaseItems(items, { now: NOW, graceMinutes: 15 });
    const none = checkCaseItems(items, { now: NOW, graceMinutes: 0 });
    // Assess
    expect(check.violations.map((v) => `${v.kind} ${v.caseId}`)).toEqual(['METRICS_OWED A', 'METRICS_OWED C']);
    expect(check.countsPending.map((c) => c.caseId)).toEqual(['B']);
    expect(none.violations.map((v) => v.caseId)).toEqual(['A', 'B', 'C']);
    expect(none.countsPending).toEqual([]);
  });

  it('should report stale index keys whatever the case’s age, naming the attributes', () => {
    // Prepare
    const items = [facts('A', { staleKeys: ['pendPk', 'pendSk'], updatedAt: '2025-11-28T11:59:00.000+08:00' })];
    // Act
    const check = checkCaseItems(items, { now: NOW, graceMinutes: 15 });
    // Assess
    expect(check.violations).toEqual([
      expect.objectContaining({ kind: 'STALE_INDEX_KEYS', caseId: 'A', keys: ['pendPk', 'pendSk'] }),
    ]);
    expect(check.violations[0]!.message).toContain('pendPk, pendSk');
  });
});

describe('Function: caseItemFactsOf', () => {
  it('should find no stale key on an item as the store writes it, and name the missing or left-over ones', () => {
    // Prepare
    const c = docCase();
    const keys = caseIndexAttributes(c);
    const item = (extra: Record<string, unknown>) => ({
      pk: `CASE#${c.caseId}`,
      sk: 'CASE',
      version: c.version,
      state: c.state,
      announcedVersion: 3,
      doc: JSON.stringify(c),
      ...extra,
    });
    const { pendPk: _pk, pendSk: _sk, ...beforePending } = keys;
    const decided = { ...c, pending: null };
    // Act
    const current = caseItemFactsOf(item(keys));
    const old = caseItemFactsOf(item(beforePending));
    const leftOver = caseItemFactsOf({ ...item(keys), doc: JSON.stringify(decided) });
    const owing = caseItemFactsOf(item({ ...keys, metricsOwed: [{ version: 2, view: null, to: 3 }] }));
    // Assess
    expect(keys.pendPk).toBe('PEND#chengguan');
    expect(current).toMatchObject({ caseId: c.caseId, version: 3, metricsOwed: 0, staleKeys: [] });
    expect(old?.staleKeys).toEqual(['pendPk', 'pendSk']);
    expect(leftOver?.staleKeys).toEqual(['pendPk', 'pendSk']);
    expect(owing?.metricsOwed).toBe(1);
    expect(caseItemFactsOf({ pk: 'CASE#X', sk: 'CASE', doc: '{not json' })).toBeUndefined();
  });
});

describe('Command: cityloop verify, case items (over the in-memory AWS)', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
    for (const s of submissions(4, 'ci')) await w.submit(s);
    await w.pump();
  });
  afterEach(() => w.stop());

  /** The case item `item` as if its writer stopped after the write: its creation owed and not counted. */
  function loseCreationCount(item: Record<string, unknown>): string {
    const owed: MetricsOwed[] = [{ version: 0, view: null, to: Number(item.version) }];
    const c = { ...(JSON.parse(String(item.doc)) as Case), metricsOwed: owed };
    let touched = 0;
    for (const t of owedTransitions(c)) {
      for (const d of t.deltas) {
        const agg = w.ddb.itemsOf('AGGMON#').find((a) => a.sk === `${d.key.day}#${d.id}`);
        // The item's once-only mark: the highest version of the case it counted.
        if (!agg || agg[`@${c.caseId}`] !== Number(item.version)) continue;
        for (const [name, n] of Object.entries(d.counters)) if (n) agg[name] = Number(agg[name] ?? 0) - n;
        delete agg[`@${c.caseId}`];
        touched++;
      }
    }
    expect(touched).toBeGreaterThan(0);
    item.metricsOwed = owed;
    return c.caseId;
  }

  it('should find a count that never finished, count it once with --repair and drop what the case owed', async () => {
    // Prepare
    const counted = structuredClone(w.ddb.itemsOf('AGGMON#'));
    const [item] = w.ddb.itemsOf('CASE#');
    const caseId = loseCreationCount(item!);
    // Act
    const found = await runCli(verify, ['--table', TABLE, '--metrics']);
    const repaired = await runCli(verify, ['--table', TABLE, '--repair']);
    const again = await runCli(verify, ['--table', TABLE, '--repair', '--metrics', '--json']);
    // Assess
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(new RegExp(`✗ METRICS_OWED 工单 ${caseId} .*not counted`));
    expect(found.stdout).toContain('AGGREGATE_MISMATCH');
    expect(found.stdout).toMatch(/考核未计 metrics owed 1 \(overdue 1\)/);
    expect(repaired.stdout).toContain(`↻ counted ${caseId} v${item!.version}`);
    expect(w.ddb.items.get(`${item!.pk}\u0000CASE`)?.metricsOwed).toBeUndefined();
    expect(w.ddb.itemsOf('AGGMON#')).toEqual(counted);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, violations: [], metrics: { mismatches: [] } });
    expect(JSON.parse(again.stdout).repaired).toBeUndefined();
  });

  it('should leave a case still owing within the grace period to its writer, and flag it with --grace 0', async () => {
    // Prepare: the case changed a moment ago (its request-day key follows its updatedAt)
    const [item] = w.ddb.itemsOf('CASE#');
    const caseId = loseCreationCount(item!);
    const c = { ...(JSON.parse(String(item!.doc)) as Case), updatedAt: new Date().toISOString() };
    item!.doc = JSON.stringify(c);
    Object.assign(item!, caseIndexAttributes(c));
    // Act
    const young = await runCli(verify, ['--table', TABLE, '--repair']);
    const overdue = await runCli(verify, ['--table', TABLE, '--grace', '0']);
    // Assess
    expect(young.code).toBe(0);
    expect(young.stdout).toMatch(new RegExp(`… 待计数 counts owed ${caseId} v\\d+ \\(1\\)`));
    expect(young.stdout).not.toContain('↻');
    expect(w.ddb.items.get(`${item!.pk}\u0000CASE`)?.metricsOwed).toHaveLength(1);
    expect(overdue.code).toBe(1);
    expect(overdue.stdout).toContain(`METRICS_OWED 工单 ${caseId}`);
  });

  it('should find index keys a case was written without, and backfill them unchanged with --repair', async () => {
    // Prepare: one case from before the reqday index; one with a 延期申请 from before the pending index.
    const [noDay, noPend] = w.ddb.itemsOf('CASE#');
    delete noDay!.reqDayPk;
    delete noDay!.reqDaySk;
    const doc = JSON.parse(String(noPend!.doc)) as Case;
    doc.pending = { ...docCase().pending!, requestedAt: doc.updatedAt };
    noPend!.doc = JSON.stringify(doc);
    const department = String(doc.department);
    const store = new DynamoStore(new DynamoDBClient({}), TABLE);
    const docsBefore = [noDay!.doc, noPend!.doc];
    const versionsBefore = [noDay!.version, noPend!.version];
    // Act
    const found = await runCli(verify, ['--table', TABLE, '--json']);
    const listedBefore = await store.listPendingRequests(department);
    const repaired = await runCli(verify, ['--table', TABLE, '--repair']);
    const after = await runCli(verify, ['--table', TABLE]);
    // Assess
    expect(found.code).toBe(1);
    const stale = JSON.parse(found.stdout).violations.filter((v: { kind: string }) => v.kind === 'STALE_INDEX_KEYS');
    expect(stale.map((v: { caseId: string; keys: string[] }) => [v.caseId, v.keys])).toEqual(
      expect.arrayContaining([
        [String(noDay!.pk).slice(5), ['reqDayPk', 'reqDaySk']],
        [doc.caseId, ['pendPk', 'pendSk']],
      ]),
    );
    expect(stale).toHaveLength(2);
    expect(listedBefore.cases).toEqual([]);
    expect(repaired.stdout.match(/↻ reindexed /g)).toHaveLength(2);
    const [day2, pend2] = [noDay!, noPend!].map((x) => w.ddb.items.get(`${x.pk}\u0000CASE`)!);
    expect([day2!.doc, pend2!.doc]).toEqual(docsBefore);
    expect([day2!.version, pend2!.version]).toEqual(versionsBefore);
    expect(day2!.reqDayPk).toMatch(/^REQDAY#\d{8}$/);
    expect(pend2).toMatchObject({ pendPk: `PEND#${department}`, pendSk: `${doc.updatedAt}#${doc.caseId}` });
    expect((await store.listPendingRequests(department)).cases.map((x) => x.caseId)).toEqual([doc.caseId]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/索引过期 stale index 0/);
  });
});
