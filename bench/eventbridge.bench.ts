/**
 * EventBridge pattern matcher throughput on the department-routing rule set (20 rules, one per department,
 * `detail-type: Case.Dispatched` + `detail.department`), and the local emulator's PutEvents rate.
 */
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { compilePattern, prepareEvent } from '#core/eventbridge/pattern.ts';
import { startEventBridgeEmulator } from '#local/eventbridge/server.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const DEPARTMENTS = Array.from({ length: 20 }, (_, i) => `dept-${String(i + 1).padStart(2, '0')}`);

const rulePattern = (department: string) => ({
  source: ['cityloop.triage'],
  'detail-type': ['Case.Dispatched'],
  detail: { department: [department] },
});

function caseEvent(i: number): Record<string, unknown> {
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    'detail-type': i % 10 === 9 ? 'Case.Escalated' : 'Case.Dispatched',
    source: 'cityloop.triage',
    account: '000000000000',
    time: '2025-06-01T08:00:00Z',
    region: 'cn-north-1',
    resources: [],
    detail: {
      trackingNo: `20250601-${String(i).padStart(5, '0')}`,
      caseId: `case-${i}`,
      department: DEPARTMENTS[i % DEPARTMENTS.length],
      category: { code: 'CJ-0301', name: '道路破损' },
      nature: '投诉',
      title: '小区门口道路塌陷',
      text: '小区门口的道路出现大面积塌陷，雨天积水严重，居民出行不便，请尽快派人处理。'.repeat(3),
      location: { address: '某区某街道某路 100 号', district: '某区', street: '某街道', lat: 39.9, lon: 116.4 },
      sla: { policy: 'standard', dueAt: '2025-06-04T08:00:00Z' },
      tags: ['道路', '积水'],
      version: 1,
    },
  };
}

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

const perSecond = (ops: number, ms: number) => Math.round((ops / ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function matcherTable(quick: boolean): Promise<BenchTable> {
  const budget = quick ? 300 : 2000;
  const compileStart = performance.now();
  const matchers = DEPARTMENTS.map((d) => compilePattern(rulePattern(d)));
  const compileMs = performance.now() - compileStart;
  const events = Array.from({ length: 1000 }, (_, i) => caseEvent(i));
  const prepared = events.map((e) => prepareEvent(e));

  // Warm up the JIT before timing.
  for (let r = 0; r < 3; r++) for (const e of prepared) for (const m of matchers) m(e);

  let hits = 0;
  const matchOnly = timeLoop(budget, () => {
    for (const e of prepared) for (const m of matchers) if (m(e)) hits++;
    return prepared.length * matchers.length;
  });
  const routed = timeLoop(budget, () => {
    for (const e of events) {
      const p = prepareEvent(e);
      for (const m of matchers) if (m(p)) hits++;
    }
    return events.length;
  });
  const raw = timeLoop(budget, () => {
    let n = 0;
    for (let i = 0; i < 50; i++) {
      const e = events[i] as Record<string, unknown>;
      for (const m of matchers) if (m(e)) hits++;
      n += matchers.length;
    }
    return n;
  });

  return {
    title: 'EventBridge pattern matcher: department routing (20 rules)',
    columns: ['measure', 'result', 'target'],
    rows: [
      ['compile 20 patterns', `${compileMs.toFixed(2)} ms`, '< 50 ms'],
      ['matches/s, event prepared once per event', fmt(perSecond(matchOnly.ops, matchOnly.ms)), '≥ 1,000,000'],
      ['events/s routed through all 20 rules (prepare included)', fmt(perSecond(routed.ops, routed.ms)), '≥ 20,000'],
      ['matches/s, raw event per call (no prepare reuse)', fmt(perSecond(raw.ops, raw.ms)), 'informative'],
    ],
    notes: [
      `Events: ~1 KB Case.Dispatched envelopes (Chinese text), 1000 distinct, 10% with another detail-type; ${hits > 0 ? 'matches counted' : 'no match?'}.`,
      'The emulator prepares (flattens) each event once and runs every rule on it, as in the second row.',
      `Budget ${budget} ms per row, single thread, after a JIT warm-up.`,
    ],
  };
}

async function emulatorTable(quick: boolean): Promise<BenchTable> {
  let delivered = 0;
  const eb = await startEventBridgeEmulator({
    region: 'cn-north-1',
    log: () => undefined,
    deliver: async () => {
      delivered++;
    },
  });
  try {
    const client = new EventBridgeClient({
      endpoint: eb.url,
      region: 'cn-north-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    for (const d of DEPARTMENTS) {
      await client.send(new PutRuleCommand({ Name: d, EventPattern: JSON.stringify(rulePattern(d)) }));
      await client.send(
        new PutTargetsCommand({ Rule: d, Targets: [{ Id: 'q', Arn: `arn:aws-cn:sqs:cn-north-1:000000000000:${d}` }] }),
      );
    }
    const calls = quick ? 50 : 400;
    const batch = Array.from({ length: 10 }, (_, i) => {
      const e = caseEvent(i);
      return { Source: 'cityloop.triage', DetailType: 'Case.Dispatched', Detail: JSON.stringify(e.detail) };
    });
    const started = performance.now();
    for (let c = 0; c < calls; c++) await client.send(new PutEventsCommand({ Entries: batch }));
    await eb.drain();
    const ms = performance.now() - started;
    return {
      title: 'EventBridge emulator: PutEvents through the AWS SDK (20 rules, no-op deliver)',
      columns: ['measure', 'result', 'target'],
      rows: [
        ['PutEvents calls/s (10 entries each, sequential)', fmt(perSecond(calls, ms)), '≥ 200'],
        ['events/s accepted and delivered', fmt(perSecond(calls * 10, ms)), '≥ 2,000'],
        ['deliveries', fmt(delivered), fmt(calls * 10)],
      ],
      notes: ['One client, one call at a time over loopback HTTP: the SDK and HTTP dominate, not matching.'],
    };
  } finally {
    await eb.stop();
  }
}

const suite: BenchSuite = async ({ quick }) => [await matcherTable(quick), await emulatorTable(quick)];
export default suite;
