/**
 * Properties of the dedupe engine, with fast-check. The race properties run several reports through the engine at
 * once on a store whose every call is released by fast-check's scheduler in a random order: all interleavings of the
 * single-item operations are explored, as two triage Lambdas would produce them.
 */
import fc from 'fast-check';
import ngeohash from 'ngeohash';
import { describe, expect, it } from 'vitest';
import { settingsFor } from '#core/dedupe/config.ts';
import { incidentMatch } from '#core/dedupe/decide.ts';
import { entryOf } from '#core/dedupe/features.ts';
import { precisionForRadius } from '#core/dedupe/geo.ts';
import { type DedupeStore, InMemoryDedupeStore } from '#core/dedupe/store.ts';
import { config, minutes, offset, report, setup } from './helpers.ts';

/** Every store call waits for the scheduler before it takes effect. */
function scheduledStore(store: DedupeStore, s: fc.Scheduler): DedupeStore {
  const later = <T>(label: string, fn: () => Promise<T>) => s.schedule(Promise.resolve(label), label).then(fn);
  return {
    getByKeys: (ks) => later(`get ${ks.length} keys`, () => store.getByKeys(ks)),
    putKeys: (ks, e) => later(`put ${ks.join(',')}`, () => store.putKeys(ks, e)),
    putLatest: (ks, e) => later(`put latest ${ks.join(',')}`, () => store.putLatest(ks, e)),
    claim: (k, v) => later(`claim ${k}=${v}`, () => store.claim(k, v)),
    readClaim: (k) => later(`read ${k}`, () => store.readClaim(k)),
    readClaims: (ks) => later(`read ${ks.length} claims`, () => store.readClaims(ks)),
    getCaseStates: (ids) => later('states', () => store.getCaseStates(ids)),
    addReporter: (id, r, at) => later(`reporter ${id}`, () => store.addReporter(id, r, at)),
  };
}

const BURSTS = [
  '和平路12号门口自来水管爆裂，水喷得很高，路面全是水',
  '和平路12号自来水管爆裂，水喷得很高，路面都是水',
  '和平路12号门口的自来水管爆裂了，水喷得很高',
  '和平路12号门口自来水管爆裂，路面全是水，请尽快维修',
];

/** A centre that sits on a geohash cell edge half of the time, so reports straddle cell boundaries. */
const centre = fc
  .record({
    lat: fc.double({ min: 22.5, max: 22.8, noNaN: true }),
    lon: fc.double({ min: 113.9, max: 114.4, noNaN: true }),
    onEdge: fc.boolean(),
  })
  .map(({ lat, lon, onEdge }) => {
    if (!onEdge) return { lat, lon };
    const [, , , maxLon] = ngeohash.decode_bbox(ngeohash.encode(lat, lon, precisionForRadius(800)));
    return { lat, lon: maxLon };
  });

const incidentReports = fc
  .record({
    c: centre,
    n: fc.integer({ min: 2, max: 4 }),
    spots: fc.array(
      fc.record({
        north: fc.integer({ min: -250, max: 250 }),
        east: fc.integer({ min: -250, max: 250 }),
        min: fc.integer({ min: 0, max: 180 }),
        text: fc.integer({ min: 0, max: BURSTS.length - 1 }),
        channel: fc.constantFrom('wechat', 'hotline', 'web'),
      }),
      { minLength: 4, maxLength: 4 },
    ),
    startMin: fc.integer({ min: 0, max: 24 * 60 }),
  })
  .map(({ c, n, spots, startMin }) =>
    spots.slice(0, n).map((p, i) =>
      report({
        id: `r${i}`,
        channel: p.channel,
        receivedAt: minutes(startMin + p.min),
        text: BURSTS[p.text]!,
        location: offset(c.lat, c.lon, p.north, p.east),
        citizen: { phone: `1390000000${i}` },
      }),
    ),
  );

const WATER_T_MIN = settingsFor(config, 'water').incident.windowHours * 60;

/** Reports of one incident by coordinates only (no place in the text), spread across a time-bucket boundary. */
const coordsOnlyReports = fc
  .record({
    c: centre,
    n: fc.integer({ min: 2, max: 4 }),
    spots: fc.array(
      fc.record({
        north: fc.integer({ min: -120, max: 120 }),
        east: fc.integer({ min: -120, max: 120 }),
        min: fc.integer({ min: 0, max: 240 }),
        text: fc.integer({ min: 0, max: BURSTS.length - 1 }),
      }),
      { minLength: 4, maxLength: 4 },
    ),
    // Start within four hours before the end of the first time bucket (T hours from T0, a bucket start).
    startMin: fc.integer({ min: WATER_T_MIN - 240, max: WATER_T_MIN }),
  })
  .map(({ c, n, spots, startMin }) =>
    spots.slice(0, n).map((p, i) =>
      report({
        id: `q${i}`,
        receivedAt: minutes(startMin + p.min),
        text: BURSTS[p.text]!.replace('和平路12号', '').replace('门口', ''),
        location: offset(c.lat, c.lon, p.north, p.east),
        citizen: { phone: `1390000001${i}` },
      }),
    ),
  );

describe('Property: race', () => {
  it('should create exactly one case when matching reports of one incident are processed concurrently', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), incidentReports, async (s, reports) => {
        // Prepare: the reports match pairwise (the precondition of the guarantee)
        const { engine: plain } = setup();
        const fs = reports.map((r) => plain.prepare(r));
        for (const a of fs) for (const b of fs) if (a !== b) fc.pre(incidentMatch(a, entryOf(b, b.id), config).ok);
        const store = new InMemoryDedupeStore();
        const { engine } = setup({
          store: scheduledStore(store, s),
          sleep: () => s.schedule(Promise.resolve(0), 'sleep').then(() => {}),
        });
        // Act
        const results = await s.waitFor(Promise.all(reports.map((r) => engine.process(r))));
        // Assess
        const cases = new Set(results.map((r) => r.caseId));
        expect(cases.size).toBe(1);
        expect(results.filter((r) => r.relation === 'new')).toHaveLength(1);
        expect(results.every((r) => !r.unsettled)).toBe(true);
        const id = [...cases][0]!;
        expect((await store.getCaseStates([id])).get(id)?.reporterCount).toBe(reports.length);
      }),
      { numRuns: 300 },
    );
  });

  it('should create exactly one case when two triage batches of one incident race (batched reads)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), incidentReports, fc.nat(4), async (s, reports, cut) => {
        // Prepare: the reports match pairwise; two workers each take a batch of them.
        const { engine: plain } = setup();
        const fs = reports.map((r) => plain.prepare(r));
        for (const a of fs) for (const b of fs) if (a !== b) fc.pre(incidentMatch(a, entryOf(b, b.id), config).ok);
        const store = new InMemoryDedupeStore();
        const { engine } = setup({
          store: scheduledStore(store, s),
          sleep: () => s.schedule(Promise.resolve(0), 'sleep').then(() => {}),
        });
        const k = Math.min(cut, reports.length);
        // Act
        const settled = (
          await s.waitFor(
            Promise.all([engine.processBatch(reports.slice(0, k)), engine.processBatch(reports.slice(k))]),
          )
        ).flat();
        // Assess
        const results = settled.map((r) => {
          if (r.status === 'rejected') throw r.reason;
          return r.value;
        });
        expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
        expect(results.filter((r) => r.relation === 'new')).toHaveLength(1);
        const id = results[0]!.caseId;
        expect((await store.getCaseStates([id])).get(id)?.reporterCount).toBe(reports.length);
      }),
      { numRuns: 200 },
    );
  });

  it('should create exactly one case when reports placed by coordinates only race across a time bucket', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), coordsOnlyReports, async (s, reports) => {
        // Prepare
        const { engine: plain } = setup();
        const fs = reports.map((r) => plain.prepare(r));
        fc.pre(fs.every((f) => f.placeKeys.length === 0));
        for (const a of fs) for (const b of fs) if (a !== b) fc.pre(incidentMatch(a, entryOf(b, b.id), config).ok);
        const store = new InMemoryDedupeStore();
        const { engine } = setup({
          store: scheduledStore(store, s),
          sleep: () => s.schedule(Promise.resolve(0), 'sleep').then(() => {}),
        });
        // Act
        const results = await s.waitFor(Promise.all(reports.map((r) => engine.process(r))));
        // Assess
        expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('should create one case when address-only reports spell one place differently and race', async () => {
    const spellings = ['坪山区和平路１２号', '和平路十二号门口', '和平路12号附近', '深圳市坪山区坪山街道和平路12号'];
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 2, maxLength: 4 }),
        async (s, which) => {
          // Prepare
          const store = new InMemoryDedupeStore();
          const { engine } = setup({
            store: scheduledStore(store, s),
            sleep: () => s.schedule(Promise.resolve(0)).then(() => {}),
          });
          const reports = which.map((w, i) =>
            report({ id: `p${i}`, receivedAt: minutes(i), location: { address: spellings[w]! }, text: BURSTS[w]! }),
          );
          // Act
          const results = await s.waitFor(Promise.all(reports.map((r) => engine.process(r))));
          // Assess
          expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('should answer every racing copy of one submission with one case', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 4 }), fc.boolean(), async (s, copies, sameId) => {
        // Prepare: SQS redelivery (same report id) or a double click (new report id, same message id)
        const store = new InMemoryDedupeStore();
        const { engine } = setup({
          store: scheduledStore(store, s),
          sleep: () => s.schedule(Promise.resolve(0)).then(() => {}),
        });
        const reports = Array.from({ length: copies }, (_, i) =>
          report({
            id: sameId ? 'x' : `x${i}`,
            channel: 'wechat',
            channelMessageId: 'msg-1',
            location: { lat: 22.7, lon: 114.3 },
          }),
        );
        // Act
        const results = await s.waitFor(Promise.all(reports.map((r) => engine.process(r))));
        // Assess
        expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
        expect(results.filter((r) => r.relation === 'new' && !r.replayed).length).toBeLessThanOrEqual(
          sameId ? copies : 1,
        );
        const id = results[0]!.caseId;
        expect((await store.getCaseStates([id])).get(id)?.reporterCount).toBe(1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Property: relations', () => {
  it('should gather pairwise-matching reports of one incident, in any order, on one case with every reporter counted', async () => {
    await fc.assert(
      fc.asyncProperty(incidentReports, fc.func(fc.integer()), async (reports, order) => {
        // Prepare
        const { engine } = setup();
        const fs = reports.map((r) => engine.prepare(r));
        for (const a of fs) for (const b of fs) if (a !== b) fc.pre(incidentMatch(a, entryOf(b, b.id), config).ok);
        const shuffled = [...reports].sort((a, b) => order(a.id) - order(b.id));
        // Act
        const results = [];
        for (const r of shuffled) results.push(await engine.process(r));
        // Assess
        expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
        expect(results.map((r) => r.relation)).toEqual(['new', ...results.slice(1).map(() => 'incident')]);
        expect(results.at(-1)!.reporterCount).toBe(reports.length);
      }),
      { numRuns: 200 },
    );
  });

  it('should never merge reports of different citizens farther apart than the radius', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 320, max: 5000 }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        async (d, angle) => {
          // Prepare: default group (radius 300 m), no address
          const { engine } = setup();
          const a = report({
            id: 'a',
            category: 'CG-01',
            text: '垃圾堆了好几天没人清运',
            location: { lat: 22.7, lon: 114.3 },
          });
          const p = offset(22.7, 114.3, d * Math.cos(angle), d * Math.sin(angle));
          const b = report({
            id: 'b',
            category: 'CG-01',
            text: '垃圾堆了好几天没人清运',
            location: p,
            citizen: { phone: '13800000009' },
          });
          // Act
          await engine.process(a);
          const r = await engine.process(b);
          // Assess
          expect(r.relation).toBe('new');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('should give a resubmission the case of the first submission, whatever came in between', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 6 }), async (between) => {
        // Prepare
        const { engine } = setup();
        const first = await engine.process(
          report({ id: 'first', channel: 'email', channelMessageId: '<m@x>', location: { lat: 22.7, lon: 114.3 } }),
        );
        for (const [i, w] of between.entries()) {
          await engine.process(
            report({
              id: `o${i}`,
              text: BURSTS[w]!,
              location: { lat: 22.7 + w * 0.01, lon: 114.3 },
              receivedAt: minutes(i),
            }),
          );
        }
        // Act
        const again = await engine.process(
          report({ id: 'second', channel: 'email', channelMessageId: '<m@x>', receivedAt: minutes(30) }),
        );
        // Assess
        expect(again.relation).toBe('resubmission');
        expect(again.caseId).toBe(first.caseId);
      }),
      { numRuns: 200 },
    );
  });

  it('should attach every later report of one citizen about one open problem to the first case', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 60, max: 20 * 24 * 60 }), { minLength: 1, maxLength: 5 }),
        async (gaps) => {
          // Prepare
          const { engine } = setup();
          const citizen = { openid: 'o-42' };
          const text = '景蓉华苑小区物业乱收停车费，业委会不作为';
          await engine.process(report({ id: 'a', citizen, category: 'ZF-01', text }));
          let t = 0;
          // Act / Assess
          for (const [i, g] of gaps.entries()) {
            t += g;
            const r = await engine.process(
              report({ id: `b${i}`, citizen, category: 'ZF-01', text: `再次反映：${text}`, receivedAt: minutes(t) }),
            );
            expect(r).toMatchObject({ relation: 'repeat', caseId: 'a', reporterCount: 1 });
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
