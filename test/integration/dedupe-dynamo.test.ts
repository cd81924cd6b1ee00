import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDedupeStore } from '#adapters/dynamo/dedupe-store.ts';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
import { CaseService } from '#core/cases/service.ts';
import { createKeywordClassifier } from '#core/classify/keywords.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createDedupeEngine } from '#core/dedupe/engine.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { type CandidateEntry, InMemoryDedupeStore } from '#core/dedupe/store.ts';
import { sketchOfShingles } from '#core/dedupe/text.ts';
import { caseIdFor, type TrackingNo } from '#core/ids.ts';
import type { Bus, BusEvent, StoredReport } from '#core/ports.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { type TriageDeps, triageBatch } from '#core/triage/process.ts';
import { type Emulator, startDynalite } from '#local/emulators.ts';
import { type IncidentDraft, threeIncidents } from '../unit/dedupe/three-incidents.ts';

const TABLE = 'cityloop-dedupe';
let dynamo: Emulator;
const client = () =>
  new DynamoDBClient({
    endpoint: dynamo.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

beforeAll(async () => {
  dynamo = await startDynalite(undefined);
  const attrs = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'];
  await client().send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attrs.map((a) => ({ AttributeName: a, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [1, 2, 3].map((n) => ({
        IndexName: `gsi${n}`,
        KeySchema: [
          { AttributeName: `gsi${n}pk`, KeyType: 'HASH' },
          { AttributeName: `gsi${n}sk`, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
});
afterAll(async () => {
  await dynamo?.stop();
});

const entry = (caseId: string, reportId: string, at: number): CandidateEntry => ({
  caseId,
  reportId,
  at,
  group: 'water',
  placeKeys: ['d:和平路#12'],
  citizenKeys: [`c-${reportId}`],
  sketch: sketchOfShingles(['水', '管', `${reportId}`]),
  title: `水管 ${reportId}`,
});

type Op =
  | { op: 'claim'; key: number; value: number }
  | { op: 'readClaim'; key: number }
  | { op: 'addReporter'; c: number; who: number; at: number }
  | { op: 'putKeys'; keys: number[]; c: number; r: number; at: number }
  | { op: 'putLatest'; keys: number[]; c: number; r: number; at: number }
  | { op: 'getByKeys'; keys: number[] }
  | { op: 'readClaims'; keys: number[] }
  | { op: 'getCaseStates'; cs: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('claim' as const), key: fc.nat(3), value: fc.nat(2) }),
  fc.record({ op: fc.constant('readClaim' as const), key: fc.nat(3) }),
  fc.record({ op: fc.constant('addReporter' as const), c: fc.nat(2), who: fc.nat(4), at: fc.nat(1000) }),
  fc.record({
    op: fc.constant('putKeys' as const),
    keys: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 3 }),
    c: fc.nat(2),
    r: fc.nat(5),
    at: fc.nat(1000),
  }),
  fc.record({
    op: fc.constant('putLatest' as const),
    keys: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 2 }),
    c: fc.nat(2),
    r: fc.nat(5),
    at: fc.nat(1000),
  }),
  fc.record({ op: fc.constant('getByKeys' as const), keys: fc.uniqueArray(fc.nat(4), { minLength: 1, maxLength: 4 }) }),
  fc.record({
    op: fc.constant('readClaims' as const),
    keys: fc.uniqueArray(fc.nat(4), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ op: fc.constant('getCaseStates' as const), cs: fc.uniqueArray(fc.nat(3), { maxLength: 3 }) }),
);

/** Index entries compared as a set: DynamoDB returns them newest case id first, the model newest write first. */
const canon = (es: CandidateEntry[]) =>
  es
    .map((e) => ({ ...e, sketch: { size: e.sketch.size, sig: [...e.sketch.sig], set: [...(e.sketch.set ?? [])] } }))
    .sort((a, b) => a.caseId.localeCompare(b.caseId));

describe('Class: DynamoDedupeStore on dynalite', () => {
  it('should behave like the in-memory store for any sequence of calls', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 20 }), async (ops) => {
        // Prepare: a fresh key space per run in the shared table.
        const ns = `run${run++}`;
        const real = new DynamoDedupeStore(client(), TABLE);
        const model = new InMemoryDedupeStore();
        const key = (k: number) => `g|water|${ns}|${k}`;
        const caseId = (c: number) => `2025112800000${c}-${ns}`;
        for (const o of ops) {
          // Act + Assess, step by step.
          switch (o.op) {
            case 'claim':
              expect(await real.claim(key(o.key), `v${o.value}`)).toEqual(await model.claim(key(o.key), `v${o.value}`));
              break;
            case 'readClaim':
              expect(await real.readClaim(key(o.key))).toEqual(await model.readClaim(key(o.key)));
              break;
            case 'addReporter':
              expect(await real.addReporter(caseId(o.c), `p${o.who}`, o.at)).toEqual(
                await model.addReporter(caseId(o.c), `p${o.who}`, o.at),
              );
              break;
            case 'putKeys': {
              const e = entry(caseId(o.c), `r${o.r}`, o.at);
              await real.putKeys(o.keys.map(key), e);
              await model.putKeys(o.keys.map(key), e);
              break;
            }
            case 'putLatest': {
              const e = entry(caseId(o.c), `r${o.r}`, o.at);
              await real.putLatest(o.keys.map(key), e);
              await model.putLatest(o.keys.map(key), e);
              break;
            }
            case 'getByKeys': {
              const [a, b] = [await real.getByKeys(o.keys.map(key)), await model.getByKeys(o.keys.map(key))];
              for (const k of o.keys.map(key)) expect(canon(a.get(k) ?? [])).toEqual(canon(b.get(k) ?? []));
              break;
            }
            case 'readClaims': {
              const [a, b] = [await real.readClaims(o.keys.map(key)), await model.readClaims(o.keys.map(key))];
              expect(new Map([...a].sort())).toEqual(new Map([...b].sort()));
              break;
            }
            case 'getCaseStates': {
              const ids = o.cs.map(caseId);
              const [a, b] = [await real.getCaseStates(ids), await model.getCaseStates(ids)];
              // The model has no state for a case without reporters; the table reads it as open with 0.
              for (const id of ids) {
                expect(a.get(id) ?? { status: 'open', reporterCount: 0 }).toEqual(
                  b.get(id) ?? { status: 'open', reporterCount: 0 },
                );
              }
              break;
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('should keep the newest entries of a key past its limit, whoever writes them, and make band keys single', async () => {
    // Prepare: a limit of 3 entries per key; six cases written under one key, two of them concurrently.
    const real = new DynamoDedupeStore(client(), TABLE, { maxEntriesPerKey: 3 });
    const k = 'p|water|trim|1';
    // Act
    for (let i = 0; i < 4; i++) await real.putKeys([k], entry(`trim-c${i}`, `r${i}`, 1000 + i));
    await Promise.all([4, 5].map((i) => real.putKeys([k], entry(`trim-c${i}`, `r${i}`, 1000 + i))));
    await real.putLatest(['t|0|trim|1'], entry('trim-c0', 'r0', 1000));
    await real.putLatest(['t|0|trim|1'], entry('trim-c1', 'r1', 1001));
    const got = await real.getByKeys([k, 't|0|trim|1', 'p|water|trim|none']);
    // Assess
    expect(got.get(k)?.map((e) => e.caseId)).toEqual(['trim-c5', 'trim-c4', 'trim-c3']);
    expect(got.get('t|0|trim|1')?.map((e) => e.caseId)).toEqual(['trim-c1']);
    expect(got.get('p|water|trim|none') ?? []).toEqual([]);
  });

  it('should let exactly one of many racing claims win, and count racing reporters once each', async () => {
    // Prepare
    const stores = Array.from({ length: 6 }, () => new DynamoDedupeStore(client(), TABLE));
    // Act
    const claims = await Promise.all(stores.map((s, i) => s.claim('a|race|cell|1#0', `case-${i}`)));
    const adds = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % stores.length]!.addReporter('race-case', `p${i % 10}`, 1000 + i)),
    );
    // Assess
    const winners = claims.filter((c) => c.won);
    expect(winners).toHaveLength(1);
    expect(new Set(claims.map((c) => c.value))).toEqual(new Set([winners[0]!.value]));
    const states = await stores[0]!.getCaseStates(['race-case']);
    expect(states.get('race-case')).toMatchObject({ reporterCount: 10, lastReportAt: 1029 });
    // Each distinct count 1..10 was handed out exactly once (crossing a threshold is announced once).
    expect(
      adds
        .filter((a) => a.after > a.before)
        .map((a) => a.after)
        .sort((x, y) => x - y),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('should read the lifecycle state of the case items: closed with its time, concluded for good, open', async () => {
    // Prepare
    const cases = new DynamoStore(client(), TABLE);
    const base = {
      version: 3,
      nature: '求助',
      urgency: 'normal',
      channel: 'web',
      title: 't',
      text: 't',
      citizen: {},
      receivedAt: '2025-11-01T08:00:00+08:00',
      updatedAt: '2025-11-03T08:00:00+08:00',
      classification: { confidence: 1, decision: 'auto', reason: 'r' },
      reportCount: 1,
      reporters: [],
      announcedVersion: 3,
      history: [],
    };
    const put = (caseId: string, state: string, extra: Record<string, unknown> = {}) =>
      cases.createCase({ ...base, caseId, trackingNo: caseId, state, ...extra } as unknown as Case);
    await put('st-closed', 'closed', { timestamps: { closedAt: '2025-11-02T10:00:00+08:00' } });
    await put('st-archived', 'archived');
    await put('st-signed', 'signed');
    const store = new DynamoDedupeStore(client(), TABLE);
    await store.addReporter('st-signed', 'p1', 5);
    // Act
    const states = await store.getCaseStates(['st-closed', 'st-archived', 'st-signed', 'st-missing']);
    // Assess
    expect(states.get('st-closed')).toEqual({
      status: 'closed',
      closedAt: Date.parse('2025-11-02T10:00:00+08:00'),
      reporterCount: 0,
    });
    expect(states.get('st-archived')).toEqual({ status: 'closed', closedAt: 0, reporterCount: 0 });
    expect(states.get('st-signed')).toEqual({ status: 'open', reporterCount: 1, lastReportAt: 5 });
    expect(states.get('st-missing')).toEqual({ status: 'open', reporterCount: 0 });
  });
});

class ListBus implements Bus {
  published: BusEvent[] = [];
  async publish(events: BusEvent[]) {
    this.published.push(...events);
    return { failed: [] };
  }
}

const classifier = createKeywordClassifier(defaultTaxonomy);
const categories = new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));

/** One triage worker (a Lambda container): its own client, stores and engine on the shared table. */
function triageWorker(bus: Bus, lifecycle?: NonNullable<TriageDeps['dedupe']>['lifecycle']): TriageDeps {
  const db = client();
  const store = new DynamoStore(db, TABLE);
  return {
    cases: store,
    bus,
    context: () => ({
      classify: (input) => classifier.classify(input),
      categories,
      departments: defaultDepartments,
      now: '2025-11-28T23:10:01.000+08:00',
    }),
    departmentName: (id) => defaultDepartments.find((d) => d.id === id)?.name,
    dedupe: {
      engine: createDedupeEngine({
        store: new DynamoDedupeStore(db, TABLE),
        config: defaultDedupeConfig,
        groups: createGroupResolver(defaultDedupeConfig, defaultTaxonomy),
        caseIdOf: (id) => caseIdFor(id as TrackingNo),
      }),
      reports: store,
      ...(lifecycle ? { lifecycle } : {}),
    },
  };
}

function storedReport(d: IncidentDraft, trackingNo: string, at: Date, key: string): StoredReport {
  return {
    trackingNo: trackingNo as TrackingNo,
    idemKey: `web#${key}`,
    acceptedAt: at.toISOString(),
    request: {
      channel: 'web',
      channelMessageId: key,
      receivedAt: at.toISOString(),
      citizen: { phone: `+86${d.phone}` },
      title: d.title,
      text: d.text,
      location: d.location,
    },
  };
}

describe('Function: triageBatch on dynalite', () => {
  it('should make one case when two triage workers race on one incident', async () => {
    // Prepare: 24 reports of one incident, stored as intake stores them, split between two workers that each have
    // their own client, engine and store objects (two Lambda containers).
    const bus = new ListBus();
    const drafts = threeIncidents(80, 31)
      .filter((d) => d.incident === 'noise')
      .slice(0, 24);
    const at = new Date('2025-11-28T23:10:00+08:00');
    const reports = drafts.map((d, i) =>
      storedReport(d, `20251128${String(900 + i).padStart(6, '0')}`, at, `race-${i}`),
    );
    const setup = new DynamoStore(client(), TABLE);
    for (const r of reports) await setup.putReportIfAbsent(r);
    const [a, b] = [triageWorker(bus), triageWorker(bus)];
    // Act: interleaved batches of 4, both workers at once.
    const runs = await Promise.all(
      [a, b].map(async (w, k) => {
        const mine = reports.filter((_, i) => i % 2 === k);
        const out = [];
        for (let i = 0; i < mine.length; i += 4) out.push(...(await triageBatch(w, mine.slice(i, i + 4))));
        return out;
      }),
    );
    // Assess
    const outcomes = runs.flat().map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    expect(new Set(outcomes.map((o) => o.caseId)).size).toBe(1);
    expect(outcomes.filter((o) => o.relation === 'new')).toHaveLength(1);
    const c = await setup.getCase(outcomes[0]!.caseId);
    expect(c?.reportCount).toBe(new Set(drafts.map((d) => d.phone)).size);
    const dispatched = bus.published.filter((e) => e.detailType === 'Case.Dispatched');
    expect(new Set(dispatched.map((e) => e.detail.eventId)).size).toBe(1);
  });

  it('should reopen (重办) a closed case through the lifecycle when its citizen reports it again', async () => {
    // Prepare: a street-light case, opened by triage, then closed (办结) a day later.
    const bus = new ListBus();
    const cases = new DynamoStore(client(), TABLE);
    const service = new CaseService({
      cases,
      bus,
      clock: { now: () => new Date('2025-11-30T09:00:00+08:00') },
      departments: defaultDepartments,
      categories,
    });
    const [first, second] = threeIncidents(40, 41).filter((d) => d.incident === 'lights');
    const opened = storedReport(first!, '20251129000001', new Date('2025-11-29T08:00:00+08:00'), 'reopen-1');
    await cases.putReportIfAbsent(opened);
    const w = triageWorker(bus, service);
    await triageBatch(w, [opened]);
    const c = (await cases.getCase(opened.trackingNo))!;
    const closedAt = '2025-11-29T18:00:00.000+08:00';
    await cases.replaceCase(
      {
        ...c,
        state: 'closed',
        version: c.version + 1,
        announcedVersion: c.version + 1,
        timestamps: { ...(c.timestamps ?? {}), closedAt } as Case['timestamps'],
      },
      c.version,
    );
    // Act: the same citizen, the next morning, about the same lights (in much the same words).
    const again = storedReport(
      { ...second!, phone: first!.phone, text: `修好没几天又不亮了！${first!.text}` },
      '20251130000001',
      new Date('2025-11-30T08:30:00+08:00'),
      'reopen-2',
    );
    await cases.putReportIfAbsent(again);
    const [out] = await triageBatch(w, [again]);
    // Assess
    expect(out).toMatchObject({
      status: 'fulfilled',
      value: { relation: 'repeat', caseId: opened.trackingNo, reopen: 'reopened' },
    });
    const after = (await cases.getCase(opened.trackingNo))!;
    expect(after.state).toBe('dispatched');
    expect(after.history.map((h) => h.action).slice(-2)).toEqual(['receive', 'reopen']);
    expect((await cases.getReportByIdemKey(again.idemKey))?.caseId).toBe(opened.trackingNo);
    // 重办 goes back to the department: a Case.Dispatched of the new version, not a second case.
    expect(bus.published.filter((e) => e.detailType === 'Case.Dispatched').map((e) => e.detail.version)).toEqual([
      1,
      after.version,
    ]);
  });
});
