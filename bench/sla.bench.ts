/**
 * SLA engine: deadline computations per second, sweep decisions per second, metric deltas per second, what the
 * calendar costs a Lambda (bundle size and cold load: JSON snapshot vs the chinese-days library), and the sweep's cost
 * against the number of open cases (it must stay flat: the sweep reads only due index entries).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { defaultCalendar } from '#core/calendar/default.ts';
import { formatShanghai, parseInstant } from '#core/calendar/shanghai-time.ts';
import type { Case } from '#core/case.ts';
import { computeDeadlines, recordFired, type SlaRecord } from '#core/sla/deadlines.ts';
import { caseDueKey, DUE_SHARDS } from '#core/sla/due-key.ts';
import { type CaseMetricView, transitionDeltas } from '#core/sla/metrics.ts';
import { resolvePolicy } from '#core/sla/policy.ts';
import { dueIndexKey, dueIndexKeyFor, parseDueIndexKey, type SweepCaseView, sweepDecision } from '#core/sla/sweep.ts';
import { runSlaSweep, type SlaSweepPorts } from '#core/sla/sweep-task.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function timeLoop(budgetMs: number, body: () => number): { ops: number; ms: number } {
  let ops = 0;
  const started = performance.now();
  let now = started;
  while (now - started < budgetMs) {
    ops += body();
    now = performance.now();
  }
  return { ops, ms: now - started };
}

/** A full GC between timed runs, so one size does not pay for the garbage of another. */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const perSecond = (r: { ops: number; ms: number }) => Math.round((r.ops / r.ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Deterministic pseudo-random receipt instants over 2025 (a linear congruential walk). */
function receipts(n: number): string[] {
  const out: string[] = [];
  const start = parseInstant('2025-01-01T00:00:00+08:00');
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(formatShanghai(start + (x % (360 * 86_400)) * 1000));
  }
  return out;
}

function throughputTable(quick: boolean): BenchTable {
  const budget = quick ? 200 : 1500;
  const cal = defaultCalendar();
  const standard = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' });
  const complex = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'complex' });
  const emergency = resolvePolicy({ nature: '求助', urgency: 'emergency', policyId: 'emergency' });
  const times = receipts(4096);
  let i = 0;
  const deadlines = (p: typeof standard) =>
    perSecond(
      timeLoop(budget, () => {
        for (let k = 0; k < 64; k++) {
          const t = times[i++ & 4095]!;
          computeDeadlines(p, t, cal, { dispatchedAt: t });
        }
        return 64;
      }),
    );
  const dStandard = deadlines(standard);
  const dComplex = deadlines(complex);
  const dEmergency = deadlines(emergency);
  const days = perSecond(
    timeLoop(budget, () => {
      for (let k = 0; k < 256; k++) cal.addWorkingDaysByDay(20089 + (k % 360), 5);
      return 256;
    }),
  );
  const hours = perSecond(
    timeLoop(budget, () => {
      for (let k = 0; k < 256; k++) cal.addWorkingMs(1_735_700_000_000 + k * 3_600_000, 4 * 3_600_000);
      return 256;
    }),
  );

  // Sweep: 1,024 cases, each with its due entry, decided at an instant past every timer (acting) and replayed after
  // recordFired (stale), the two paths a sweep takes.
  const views: (SweepCaseView & { deadlines: SlaRecord })[] = times.slice(0, 1024).map((t, k) => ({
    caseId: `C${k}`,
    state: k % 3 === 0 ? 'signed' : 'dispatched',
    deadlines: computeDeadlines(standard, t, cal, { dispatchedAt: t }),
    timestamps: { firstContactAt: null },
  }));
  const entries = views.map((v) => dueIndexKeyFor(v, 16)!);
  const fired = views.map((v, k) => {
    const d = sweepDecision(v, entries[k]!, '2026-06-01T00:00+08:00');
    return d.action === 'stale' ? v : { ...v, deadlines: recordFired(v.deadlines, d.timer) };
  });
  const now = parseInstant('2026-06-01T00:00+08:00');
  const act = perSecond(
    timeLoop(budget, () => {
      for (let k = 0; k < 1024; k++) sweepDecision(views[k]!, entries[k]!, now);
      return 1024;
    }),
  );
  const stale = perSecond(
    timeLoop(budget, () => {
      for (let k = 0; k < 1024; k++) sweepDecision(fired[k]!, entries[k]!, now);
      return 1024;
    }),
  );
  const keys = perSecond(
    timeLoop(budget, () => {
      for (let k = 0; k < 1024; k++) dueIndexKey(views[k]!.caseId, views[k]!.deadlines.resolveDue, 1, 16);
      return 1024;
    }),
  );

  const view: CaseMetricView = {
    department: 'zhujian',
    category: 'CJ-01',
    street: '坪山街道',
    channel: 'hotline',
    receivedAt: '2025-09-29T09:00+08:00',
    excluded: false,
    signDue: '2025-09-29T13:00+08:00',
    signedAt: '2025-09-29T09:30+08:00',
    contactDue: '2025-09-30T23:59:59.999+08:00',
    firstContactAt: '2025-09-29T10:00+08:00',
    resolveDue: '2025-10-09T23:59:59.999+08:00',
    resolvedAt: null,
    closedAt: null,
    reopenCount: 0,
    followUpAt: null,
    satisfaction: null,
    resolvedFlag: null,
  };
  const after = { ...view, resolvedAt: '2025-10-09T16:00+08:00' };
  const ctx = { calendar: cal };
  const deltas = perSecond(
    timeLoop(budget, () => {
      for (let k = 0; k < 64; k++) transitionDeltas({ before: view, after }, ctx);
      return 64;
    }),
  );

  return {
    title: 'SLA engine throughput (one core)',
    columns: ['operation', 'per second', 'target', 'note'],
    rows: [
      ['computeDeadlines, standard (5 working days)', fmt(dStandard), '≥ 10,000', '4 clocks, 17 timers incl. 9 chases'],
      ['computeDeadlines, complex (15 working days)', fmt(dComplex), '≥ 10,000', ''],
      ['computeDeadlines, emergency (hours, 24×7)', fmt(dEmergency), '≥ 10,000', '12 hourly chases per clock'],
      ['addWorkingDays(5)', fmt(days), '≥ 1,000,000', 'day-number fast path'],
      ['addWorkingHours(4)', fmt(hours), '≥ 1,000,000', 'ms fast path'],
      ['sweepDecision → warn/breach/chase', fmt(act), '≥ 100,000', 'cost follows due items, not cases'],
      ['sweepDecision → stale (repeat)', fmt(stale), '≥ 100,000', ''],
      ['dueIndexKey', fmt(keys), '≥ 100,000', ''],
      ['metrics transitionDeltas (resolve)', fmt(deltas), '≥ 5,000', 'one ADD batch per transition'],
    ],
    notes: [
      `Receipt instants spread over 2025; calendar ${cal.version}.`,
      "Targets from need, for a 20 M requests/year city: recompute ~500 k open cases in < 1 min when next year's " +
        'calendar arrives (≥ 10 k/s); ~55 k resolve breaches share 23:59:59.999 each day and should be decided in < 1 s ' +
        '(≥ 100 k/s); transitions peak near 1 k/s (≥ 5 k/s).',
    ],
  };
}

async function bundleBytes(contents: string): Promise<{ min: number; gz: number }> {
  const r = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  });
  const bytes = r.outputFiles[0]!.contents;
  return { min: bytes.length, gz: gzipSync(bytes).length };
}

function coldLoadMs(code: string, runs: number): number {
  const samples: number[] = [];
  for (let k = 0; k < runs; k++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
    const ms = Number(r.stdout.trim());
    if (r.status === 0 && Number.isFinite(ms)) samples.push(ms);
  }
  return median(samples);
}

async function calendarCostTable(quick: boolean): Promise<BenchTable> {
  const ours = await bundleBytes(
    "import { defaultCalendar } from './core/calendar/default.ts';\n" +
      "import { computeDeadlines } from './core/sla/deadlines.ts';\n" +
      "import { resolvePolicy } from './core/sla/policy.ts';\n" +
      "console.log(computeDeadlines(resolvePolicy({ nature: '投诉', urgency: 'normal' }), '2025-09-30T10:00+08:00', defaultCalendar()).resolveDue);",
  );
  const calendarOnly = await bundleBytes(
    "import { defaultCalendar } from './core/calendar/default.ts';\nconsole.log(defaultCalendar().isWorkingDay('2025-10-11'));",
  );
  const lib = await bundleBytes(
    "import { isWorkday } from 'chinese-days';\nconsole.log(isWorkday(new Date(2025, 9, 11, 12)));",
  );
  const runs = quick ? 3 : 9;
  const snapshotLoad = coldLoadMs(
    "const t=performance.now();const o=(await import('./config/calendar/official-cn.json',{with:{type:'json'}})).default;" +
      'let n=0;for(const k in o.holidays)n++;for(const k in o.workdays)n++;process.stdout.write(String(performance.now()-t));',
    runs,
  );
  const libLoad = coldLoadMs(
    "const t=performance.now();const m=await import('chinese-days');(m.isWorkday??m.default.isWorkday)(new Date(2025,9,11,12));process.stdout.write(String(performance.now()-t));",
    runs,
  );
  const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`;
  return {
    title: 'Working calendar in a Lambda bundle: JSON snapshot vs chinese-days',
    columns: ['what', 'minified', 'gzip', 'cold load (median)', 'target'],
    rows: [
      [
        'calendar (snapshot JSON + WorkingCalendar + zod/mini)',
        kb(calendarOnly.min),
        kb(calendarOnly.gz),
        '',
        '< 100 kB',
      ],
      ['calendar + policies + deadlines + sweep', kb(ours.min), kb(ours.gz), '', '< 120 kB'],
      ['snapshot JSON import (2004–2026)', '', '', `${snapshotLoad.toFixed(1)} ms`, '< the library'],
      ['chinese-days library (isWorkday)', kb(lib.min), kb(lib.gz), `${libLoad.toFixed(1)} ms`, ''],
    ],
    notes: [
      'Cold load: a fresh Node process imports the data and answers one question (median of runs; includes file read).',
      'Choice: the snapshot. It is not smaller than the library (both are tens of kB), but it states the covered years ' +
        '(the library silently answers Mon–Fri for unknown years), loads as plain data, never parses dates in the host ' +
        'time zone, and an update is a reviewable data diff; a unit test keeps it equal to the installed library.',
    ],
  };
}

/**
 * One shard of the due GSI in memory, with DynamoDB's costs in shape: a sorted key space where a write (insert or
 * delete of one key) costs O(log n + chunk) and `sk <= bound` reads from the start of the partition and stops at the
 * bound, so a query costs what it returns. Sorted chunks of at most 1,024 keys (a B-tree of height two).
 */
class ShardIndex {
  private chunks: string[][] = [];

  /** Bulk load (setup only). */
  load(sorted: string[]): void {
    this.chunks = [];
    for (let i = 0; i < sorted.length; i += 512) this.chunks.push(sorted.slice(i, i + 512));
  }

  private chunkFor(sk: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid] as string[];
      if ((c[c.length - 1] as string) < sk) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(sk: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([sk]);
      return;
    }
    const ci = this.chunkFor(sk);
    const c = this.chunks[ci] as string[];
    let lo = 0;
    let hi = c.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((c[mid] as string) < sk) lo = mid + 1;
      else hi = mid;
    }
    c.splice(lo, 0, sk);
    if (c.length > 1024) this.chunks.splice(ci, 1, c.slice(0, 512), c.slice(512));
  }

  delete(sk: string): void {
    const ci = this.chunkFor(sk);
    const c = this.chunks[ci];
    const i = c ? c.indexOf(sk) : -1;
    if (!c || i < 0) return;
    c.splice(i, 1);
    if (c.length === 0) this.chunks.splice(ci, 1);
  }

  /** Query `after < sk <= bound`, ascending, at most `limit`. */
  query(bound: string, limit: number, after?: string): string[] {
    const out: string[] = [];
    for (let ci = after === undefined ? 0 : this.chunkFor(after); ci < this.chunks.length; ci++) {
      for (const sk of this.chunks[ci] as string[]) {
        if (after !== undefined && sk <= after) continue;
        if (sk > bound || out.length >= limit) return out;
        out.push(sk);
      }
    }
    return out;
  }

  size(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

/**
 * The real sweep (`runSlaSweep`, as `functions/sweep.ts` runs it every minute) over `open` open cases of which `due`
 * have a timer due now. The ports are in memory: the due index is a sorted, chunked array per shard standing in for
 * the DynamoDB GSI (its query and key moves are timed apart: on AWS that is the database's work, not the Lambda's),
 * cases are re-read from a Map, writes check the version and move the case's due key. The not-due cases exist only
 * as index keys (the sweep never reads them; that is the point).
 */
/** A case as triage writes it: a standard complaint received 09:00, dispatched 09:05 (its sign warning is at 14:05). */
function makeDueCase(caseId: string): Case {
  const standard = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' });
  const deadlines = computeDeadlines(standard, '2025-11-03T09:00:00.000+08:00', defaultCalendar(), {
    dispatchedAt: '2025-11-03T09:05:00.000+08:00',
  });
  return {
    caseId,
    trackingNo: caseId,
    state: 'dispatched',
    version: 1,
    department: 'zhujian',
    category: 'ZF-01',
    nature: '投诉',
    urgency: 'normal',
    channel: 'web',
    title: '小区电梯故障',
    text: '坪山街道六和社区某小区电梯坏了三天',
    citizen: { phone: '+8613800138000' },
    receivedAt: '2025-11-03T09:00:00.000+08:00',
    updatedAt: '2025-11-03T09:05:00.000+08:00',
    dispatchedAt: '2025-11-03T09:05:00.000+08:00',
    classification: { category: 'ZF-01', confidence: 0.9, decision: 'auto', reason: 'bench' },
    reportCount: 1,
    reporters: [],
    deadlines: deadlines as unknown as Record<string, unknown>,
    announcedVersion: 1,
    history: [],
  };
}

async function sweepScaleTable(quick: boolean): Promise<BenchTable> {
  const sizes = quick ? [10_000, 100_000, 300_000] : [10_000, 100_000, 1_000_000];
  const due = quick ? 2_000 : 5_000;
  const runs = quick ? 5 : 9;
  const now = new Date(parseInstant('2025-11-03T14:10:00+08:00'));
  const nowMs = now.getTime();
  // The due cases: dispatched at 09:05, their sign warning (14:05) is due at 14:10.
  const dueCases: Case[] = Array.from({ length: due }, (_, k) => makeDueCase(`D${String(k).padStart(7, '0')}`));
  interface Setup {
    open: number;
    shards: ShardIndex[];
    cases: Map<string, Case>;
    /** Lambda side: total minus the emulated index. */
    samples: number[];
    totals: number[];
    indexMs: number;
    last: { read: number; fired: number; caseReads: number; writes: number; queries: number; events: number };
  }
  const setups: Setup[] = sizes.map((open) => {
    const shards = Array.from({ length: DUE_SHARDS }, () => new ShardIndex());
    const byShard: string[][] = Array.from({ length: DUE_SHARDS }, () => []);
    // Future timers of the other open cases: spread over the next 15 days.
    let x = 987654321;
    for (let k = 0; k < open - due; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const key = dueIndexKey(`O${k}`, nowMs + 60_000 + (x % (15 * 86_400_000)), 1, DUE_SHARDS);
      byShard[Number(key.pk.slice(4))]?.push(key.sk);
    }
    for (let s = 0; s < DUE_SHARDS; s++) shards[s]?.load((byShard[s] as string[]).sort());
    return {
      open,
      shards,
      cases: new Map(),
      samples: [],
      totals: [],
      indexMs: 0,
      last: { read: 0, fired: 0, caseReads: 0, writes: 0, queries: 0, events: 0 },
    };
  });
  const shardOf = (pk: string) => Number(pk.slice(4));
  const place = (u: Setup) => {
    for (const c of dueCases) {
      u.cases.set(c.caseId, c);
      const key = caseDueKey(c, DUE_SHARDS);
      if (key) u.shards[shardOf(key.pk)]?.insert(key.sk);
    }
  };
  const reset = (u: Setup) => {
    for (const c of dueCases) {
      const moved = u.cases.get(c.caseId);
      const key = moved && caseDueKey(moved, DUE_SHARDS);
      if (key) u.shards[shardOf(key.pk)]?.delete(key.sk);
    }
  };
  const portsFor = (u: Setup, counts: Setup['last']): SlaSweepPorts => ({
    async queryDue(shard, upperBound, limit, after) {
      const t0 = performance.now();
      counts.queries++;
      const sks = (u.shards[shard] as ShardIndex).query(upperBound, limit, after?.sk as string | undefined);
      const entries = sks.map((sk) => ({ sk, caseId: parseDueIndexKey(sk)?.caseId ?? '' }));
      counts.read += entries.length;
      u.indexMs += performance.now() - t0;
      return { entries, ...(sks.length === limit ? { cursor: { sk: sks[sks.length - 1] } } : {}) };
    },
    async getCase(caseId) {
      counts.caseReads++;
      const c = u.cases.get(caseId);
      return c ? { ...c } : undefined;
    },
    async replaceCase(c, expectedVersion) {
      const before = u.cases.get(c.caseId);
      if (!before || before.version !== expectedVersion) return false;
      counts.writes++;
      u.cases.set(c.caseId, c);
      // The store computes the item's due key (Lambda side); moving the index entry is the database's work.
      const oldKey = caseDueKey(before, DUE_SHARDS);
      const newKey = caseDueKey(c, DUE_SHARDS);
      if (oldKey?.sk !== newKey?.sk) {
        const t0 = performance.now();
        if (oldKey) u.shards[shardOf(oldKey.pk)]?.delete(oldKey.sk);
        if (newKey) u.shards[shardOf(newKey.pk)]?.insert(newKey.sk);
        u.indexMs += performance.now() - t0;
      }
      return true;
    },
    async markSettled() {},
    async publish(events) {
      counts.events += events.length;
      return { failed: [] };
    },
  });
  // Sizes interleaved run by run (machine load drifts alike for all), a warm-up round first, GC before each run.
  for (let r = -1; r < runs; r++) {
    for (const u of setups) {
      place(u);
      collectGarbage();
      const counts = { read: 0, fired: 0, caseReads: 0, writes: 0, queries: 0, events: 0 };
      u.indexMs = 0;
      const t0 = performance.now();
      const result = await runSlaSweep(portsFor(u, counts), now, { shards: DUE_SHARDS, maxPages: 1000 });
      const ms = performance.now() - t0;
      counts.fired = result.fired;
      if (r >= 0) {
        u.samples.push(ms - u.indexMs);
        u.totals.push(ms);
      }
      u.last = counts;
      reset(u);
    }
  }
  const rows: (string | number)[][] = [];
  const best: number[] = [];
  const bestTotal: number[] = [];
  for (const u of setups) {
    // Best of the runs: noise from other processes only ever adds time; the median is shown beside it.
    const ms = Math.min(...u.samples);
    best.push(ms);
    bestTotal.push(Math.min(...u.totals));
    const indexed = u.shards.reduce((n, s) => n + s.size(), 0);
    rows.push([
      fmt(u.open),
      fmt(u.last.read),
      fmt(u.last.fired),
      `${fmt(u.last.queries)} / ${fmt(u.last.caseReads)} / ${fmt(u.last.writes)}`,
      ms.toFixed(1),
      median(u.samples).toFixed(1),
      `${((ms * 1000) / Math.max(1, u.last.fired)).toFixed(1)} µs`,
      Math.min(...u.totals).toFixed(1),
      fmt(indexed + due),
    ]);
  }
  const ratio = Math.max(...best) / Math.min(...best);
  const ratioTotal = Math.max(...bestTotal) / Math.min(...bestTotal);
  return {
    title: `SLA sweep cost vs open cases (${fmt(due)} due, ${DUE_SHARDS} shards, the real runSlaSweep on in-memory ports)`,
    columns: [
      'open cases',
      'entries read',
      'fired',
      'queries / case reads / writes',
      'sweep ms, Lambda side (best)',
      'median ms',
      'per due case',
      'with the emulated index, ms (best)',
      'index entries',
    ],
    rows,
    notes: [
      `Flatness: slowest / fastest (best of runs, Lambda side) = ${ratio.toFixed(2)}× (target ≤ 1.3×); the database work is the same at every size (queries, case reads and writes above), since the sweep reads only the due entries and those cases, whatever the number of open cases (a Scan would read every open case).`,
      `With the in-memory stand-in for the GSI included (its binary searches and key moves over up to ${fmt(sizes[sizes.length - 1] as number)} keys, the O(log n) work DynamoDB does server-side): ${ratioTotal.toFixed(2)}×.`,
      'Per due case: consistent re-read, sweepDecision, the SLA event, one conditional write (recordFired, the history note, the next due key).',
      `${runs} runs per size; sizes interleaved run by run after a warm-up round, a full GC before each run.`,
    ],
  };
}

const suite: BenchSuite = async ({ quick }) => [
  throughputTable(quick),
  await sweepScaleTable(quick),
  await calendarCostTable(quick),
];
export default suite;
