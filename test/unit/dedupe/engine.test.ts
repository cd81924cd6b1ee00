import { describe, expect, it } from 'vitest';
import { contentBuckets, entryOf, keyOf } from '#core/dedupe/features.ts';
import type { CandidateEntry } from '#core/dedupe/store.ts';
import { InMemoryDedupeStore } from '#core/dedupe/store.ts';
import { config, HERE, minutes, offset, report, setup, withConfig } from './helpers.ts';

describe('Class: DedupeEngine', () => {
  it('should open a case, merge other citizens into it and announce the growth thresholds', async () => {
    // Prepare
    const { engine } = setup();
    const results = [];
    // Act
    for (let i = 0; i < 6; i++) {
      results.push(
        await engine.process(
          report({
            id: `r${i}`,
            receivedAt: minutes(i * 3),
            location: offset(HERE.lat, HERE.lon, i * 30, -i * 20),
            citizen: { phone: `1380000000${i}` },
            text: i % 2 ? '和平路自来水管爆了，水漫到路上' : '和平路12号水管爆裂，水喷出来了',
          }),
        ),
      );
    }
    // Assess
    expect(results[0]).toMatchObject({ relation: 'new', caseId: 'r0', reporterCount: 1, crossed: [] });
    expect(results.slice(1).every((r) => r.relation === 'incident' && r.caseId === 'r0')).toBe(true);
    expect(results.map((r) => r.reporterCount)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results[4]!.crossed).toEqual([5]);
    expect(results[5]!.crossed).toEqual([]);
  });

  it('should answer a resubmission (same channel message id) with the first case and add no reporter', async () => {
    // Prepare
    const { engine } = setup();
    const first = await engine.process(report({ id: 'a', channel: 'wechat', channelMessageId: 'm-1', location: HERE }));
    // Act
    const again = await engine.process(report({ id: 'b', channel: 'wechat', channelMessageId: 'm-1', location: HERE }));
    // Assess
    expect(again).toMatchObject({ relation: 'resubmission', caseId: first.caseId, reporterCount: 1 });
  });

  it('should treat the same citizen and text within minutes as a resubmission when there is no message id', async () => {
    // Prepare
    const { engine } = setup();
    const citizen = { phone: '13800000001' };
    await engine.process(report({ id: 'a', citizen, location: HERE }));
    // Act
    const soon = await engine.process(report({ id: 'b', citizen, location: HERE, receivedAt: minutes(3) }));
    const later = await engine.process(report({ id: 'c', citizen, location: HERE, receivedAt: minutes(45) }));
    const anonymous = await engine.process(report({ id: 'd', location: HERE, receivedAt: minutes(46) }));
    // Assess
    expect(soon).toMatchObject({ relation: 'resubmission', caseId: 'a' });
    expect(later).toMatchObject({ relation: 'repeat', caseId: 'a' });
    expect(anonymous).toMatchObject({ relation: 'incident', caseId: 'a', reporterCount: 2 });
  });

  it('should give the same answer to a redelivered report and change nothing twice', async () => {
    // Prepare
    const { engine, store } = setup();
    await engine.process(report({ id: 'a', location: HERE, citizen: { phone: '13800000001' } }));
    const first = await engine.process(
      report({ id: 'b', location: HERE, citizen: { phone: '13800000002' }, receivedAt: minutes(1) }),
    );
    // Act
    const again = await engine.process(
      report({ id: 'b', location: HERE, citizen: { phone: '13800000002' }, receivedAt: minutes(1) }),
    );
    const newAgain = await engine.process(report({ id: 'a', location: HERE, citizen: { phone: '13800000001' } }));
    // Assess
    expect(again).toMatchObject({ relation: 'incident', caseId: first.caseId, replayed: true, reporterCount: 2 });
    expect(newAgain).toMatchObject({ relation: 'new', caseId: 'a', replayed: true, reporterCount: 2 });
    expect((await store.getCaseStates(['a'])).get('a')?.reporterCount).toBe(2);
  });

  it('should reopen a closed case on a repeat within the window (重办)', async () => {
    // Prepare
    const { engine, store } = setup();
    const citizen = { openid: 'o-1' };
    await engine.process(report({ id: 'a', citizen, category: 'SZ-01', text: '和平路路灯不亮', location: HERE }));
    store.setCaseStatus('a', 'closed', minutes(60));
    // Act
    const d = await engine.process(
      report({
        id: 'b',
        citizen,
        category: 'SZ-01',
        text: '和平路路灯还是不亮',
        location: HERE,
        receivedAt: minutes(3 * 24 * 60),
      }),
    );
    // Assess
    expect(d).toMatchObject({ relation: 'repeat', caseId: 'a', reopen: true });
  });

  it('should merge address-only reports whose addresses are two spellings of one place', async () => {
    // Prepare
    const { engine } = setup();
    await engine.process(report({ id: 'a', location: { address: '深圳市坪山区和平路１２号' } }));
    // Act
    const d = await engine.process(
      report({
        id: 'b',
        receivedAt: minutes(10),
        text: '和平路12号水管破裂漏水',
        location: { address: '和平路十二号门口' },
      }),
    );
    // Assess
    expect(d).toMatchObject({ relation: 'incident', caseId: 'a' });
  });

  it('should read the same number of keys whatever the number of open cases elsewhere', async () => {
    // Prepare
    const empty = setup();
    const full = setup();
    const filler: [string, CandidateEntry][] = [];
    const base = full.engine.prepare(report({ id: 'x', location: HERE }));
    for (let i = 0; i < 20_000; i++) {
      const e = entryOf(
        { ...base, id: `f${i}`, lat: 30 + (i % 100) * 0.01, lon: 100 + Math.floor(i / 100) * 0.01 },
        `f${i}`,
      );
      filler.push([keyOf.cell('water', `cell${i % 5000}`, 1), e]);
    }
    full.store.bulkLoad(filler);
    const r = report({ id: 'q', location: HERE });
    // Act
    await empty.engine.process(r);
    await full.engine.process(r);
    // Assess
    expect(full.store.stats.getByKey).toBe(empty.store.stats.getByKey);
  });

  it('should read the candidate keys of a whole batch in one batched read and decide as report by report', async () => {
    // Prepare: an open case, then a batch of its repeat, an incident, a resubmission and two unrelated reports.
    const first = report({ id: 'a', location: HERE, citizen: { phone: '13800000001' } });
    const batch = [
      report({
        id: 'b',
        location: HERE,
        citizen: { phone: '13800000001' },
        receivedAt: minutes(30),
        text: '和平路12号水管还在喷水，没人来修',
      }),
      report({
        id: 'c',
        location: offset(HERE.lat, HERE.lon, 40, 10),
        citizen: { phone: '13800000002' },
        receivedAt: minutes(31),
      }),
      report({ id: 'd', location: HERE, citizen: { phone: '13800000001' }, receivedAt: minutes(2) }),
      report({
        id: 'e',
        text: '东门路垃圾桶满了好几天没人清运，臭味很大',
        category: undefined,
        location: offset(HERE.lat, HERE.lon, -6000, 3000),
        citizen: { phone: '13800000003' },
        receivedAt: minutes(32),
      }),
      report({
        id: 'f',
        text: '碧岭路18号门口的路灯坏了，晚上很黑',
        category: undefined,
        location: offset(HERE.lat, HERE.lon, 5000, 5000),
        receivedAt: minutes(33),
        citizen: { phone: '13800000004' },
      }),
    ];
    const one = setup();
    const many = setup();
    await one.engine.process(first);
    await many.engine.process(first);
    const readsBefore = many.store.stats.getByKeys;
    const claimReadsBefore = many.store.stats.readClaims;
    // Act
    const each = [];
    for (const r of batch) each.push(await one.engine.process(r));
    const together = await many.engine.processBatch(batch);
    // Assess: the same relations and cases; one read of the fates and one of all candidate keys.
    const values = together.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    expect(values.map((v) => [v?.relation, v?.caseId])).toEqual(each.map((v) => [v.relation, v.caseId]));
    expect(values.map((v) => v?.relation)).toEqual(['repeat', 'incident', 'resubmission', 'new', 'new']);
    expect(many.store.stats.readClaims - claimReadsBefore).toBe(1);
    expect(many.store.stats.getByKeys - readsBefore).toBe(1);
  });

  it('should read the candidates while the submission claims are being made (one round trip less a batch)', async () => {
    // Prepare: a store whose submission claims wait until the candidates are read (or 100 ms, when they never are).
    class GatedStore extends InMemoryDedupeStore {
      claiming = 0;
      readWhileClaiming = false;
      private open!: () => void;
      private readonly gate = new Promise<void>((resolve) => {
        this.open = resolve;
        setTimeout(resolve, 100);
      });
      override async claim(key: string, value: string) {
        if (key.startsWith('s|') || key.startsWith('h|')) {
          this.claiming++;
          await this.gate;
          this.claiming--;
        }
        return super.claim(key, value);
      }
      override async getByKeys(keys: readonly string[]) {
        // a read takes a moment on a real table: are the claims in flight at the same time?
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.claiming > 0) this.readWhileClaiming = true;
        this.open();
        return super.getByKeys(keys);
      }
    }
    const { engine, store } = setup({ store: new GatedStore() });
    // Act
    const out = await engine.processBatch([
      report({ id: 'p', location: HERE, channel: 'wechat', channelMessageId: 'm-7' }),
      report({
        id: 'q',
        text: '碧岭路18号门口的路灯坏了，晚上很黑',
        category: undefined,
        location: offset(HERE.lat, HERE.lon, 5000, 5000),
        receivedAt: minutes(1),
      }),
    ]);
    // Assess
    expect(store.readWhileClaiming).toBe(true);
    expect(out.map((r) => (r.status === 'fulfilled' ? r.value.relation : r.reason))).toEqual(['new', 'new']);
  });

  it('should still read the candidates of a report whose earlier-content claim turns out to be its own', async () => {
    // Prepare: an open case, and the previous content bucket of the next report already claimed under its own id
    const { engine, store } = setup();
    await engine.process(report({ id: 'a', location: HERE, citizen: { phone: '13800000001' } }));
    const next = report({ id: 'own', location: HERE, citizen: { phone: '13800000009' }, receivedAt: minutes(5) });
    const f = engine.prepare(next);
    await store.claim(keyOf.content(f.contentHash, contentBuckets(f, config).previous), 'own');
    // Act
    const d = await engine.process(next);
    // Assess: not a resubmission of itself; its candidates were read, so it joins the open case
    expect(d).toMatchObject({ relation: 'incident', caseId: 'a', reporterCount: 2 });
  });

  it('should fail only the report whose input is bad, and decide the others of the batch', async () => {
    // Prepare
    const { engine } = setup();
    // Act
    const out = await engine.processBatch([
      report({ id: 'ok', location: HERE }),
      report({ id: 'bad', receivedAt: 'not a time' }),
    ]);
    // Assess
    expect(out[0]).toMatchObject({ status: 'fulfilled', value: { relation: 'new', caseId: 'ok' } });
    expect(out[1]).toMatchObject({ status: 'rejected' });
  });

  it('should suggest matching open cases with what an agent needs to judge them', async () => {
    // Prepare
    const { engine } = setup();
    await engine.process(report({ id: 'a', location: HERE, title: '和平路水管爆裂' }));
    // Act
    const s = await engine.suggest(
      report({ id: 'draft', location: offset(HERE.lat, HERE.lon, 50, 0), receivedAt: minutes(5) }),
    );
    // Assess
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({
      caseId: 'a',
      title: '和平路水管爆裂',
      status: 'open',
      reporterCount: 1,
      relation: 'incident',
    });
    expect(s[0]!.distanceMeters).toBeGreaterThan(40);
  });

  it('should answer with the holder case when the worker holding an anchor crashed, and settle on its redelivery', async () => {
    // Prepare: worker A wrote its private entry and one anchor, then died before deciding its fate.
    const store = new InMemoryDedupeStore();
    const cfg = withConfig({ protocol: { anchorSlots: 4, fateWaitAttempts: 2, fateWaitMs: 0 } });
    const { engine } = setup({ store, config: cfg });
    const a = report({ id: 'A', location: HERE, citizen: { phone: '13800000001' } });
    const fa = engine.prepare(a);
    await store.putKeys([keyOf.case('A')], entryOf(fa, 'A'));
    const { incidentAnchors } = await import('#core/dedupe/engine.ts');
    await store.claim(keyOf.anchor(incidentAnchors(fa, cfg)[0]!, 0), 'A');
    // Act
    const b = await engine.process(
      report({ id: 'B', location: HERE, citizen: { phone: '13800000002' }, receivedAt: minutes(1) }),
    );
    const resumed = await engine.process(a);
    const c = await engine.process(
      report({ id: 'C', location: HERE, citizen: { phone: '13800000003' }, receivedAt: minutes(2) }),
    );
    // Assess
    expect(b).toMatchObject({ relation: 'incident', caseId: 'A', unsettled: true });
    expect(resumed).toMatchObject({ relation: 'new', caseId: 'A' });
    expect(c).toMatchObject({ relation: 'incident', caseId: 'A', reporterCount: 3 });
  });

  it('should keep two unrelated incidents in one cell apart, each with its own case', async () => {
    // Prepare
    const { engine } = setup();
    // Act
    const burst = await engine.process(report({ id: 'a', location: HERE }));
    const light = await engine.process(
      report({
        id: 'b',
        category: 'SZ-01',
        text: '和平路路灯不亮',
        location: offset(HERE.lat, HERE.lon, 20, 0),
        receivedAt: minutes(2),
      }),
    );
    const burst2 = await engine.process(
      report({ id: 'c', location: HERE, receivedAt: minutes(4), text: '和平路水管爆了' }),
    );
    // Assess
    expect([burst.relation, light.relation, burst2.relation]).toEqual(['new', 'new', 'incident']);
    expect(burst2.caseId).toBe('a');
  });

  it('should be configurable per group through the config', () => {
    // Assess
    expect(config.groups['noise']?.incident?.radiusMeters).toBe(150);
  });
});

describe('Class: InMemoryDedupeStore', () => {
  it('should serve compact bulk rows through getByKey, newest written entries first, within the per-key limit', async () => {
    // Prepare
    const store = new InMemoryDedupeStore({ maxEntriesPerKey: 3 });
    const { engine } = setup({ store });
    const f = engine.prepare(report({ id: 'x', location: HERE }));
    store.bulkLoadCompact(
      5,
      (i) => [i % 2 ? 'k-odd' : 'k-even', `c|${i}`],
      (i) => entryOf({ ...f, id: `B${i}` }, `B${i}`),
    );
    await store.putKeys(['k-odd'], entryOf(f, 'LIVE'));
    // Act
    const odd = await store.getByKey('k-odd');
    const even = await store.getByKey('k-even');
    const one = await store.getByKey('c|4');
    const none = await store.getByKey('k-none');
    // Assess
    expect(odd.map((e) => e.caseId)).toEqual(['LIVE', 'B3', 'B1']);
    expect(even.map((e) => e.caseId)).toEqual(['B4', 'B2', 'B0']);
    expect(one.map((e) => e.caseId)).toEqual(['B4']);
    expect(none).toEqual([]);
    expect(store.size().compactLinks).toBe(10);
  });

  it('should make a claim once and treat a repeated claim with the same value as won', async () => {
    // Prepare
    const store = new InMemoryDedupeStore();
    // Act
    const first = await store.claim('a|x#0', 'C1');
    const same = await store.claim('a|x#0', 'C1');
    const other = await store.claim('a|x#0', 'C2');
    // Assess
    expect(first).toEqual({ won: true, value: 'C1' });
    expect(same).toEqual({ won: true, value: 'C1' });
    expect(other).toEqual({ won: false, value: 'C1' });
    expect(await store.readClaim('a|x#0')).toBe('C1');
  });

  it('should count distinct reporters once each', async () => {
    // Prepare
    const store = new InMemoryDedupeStore();
    // Act
    const a = await store.addReporter('C1', 'p1', 1);
    const again = await store.addReporter('C1', 'p1', 2);
    const b = await store.addReporter('C1', 'p2', 3);
    // Assess
    expect([a, again, b]).toEqual([
      { before: 0, after: 1 },
      { before: 1, after: 1 },
      { before: 1, after: 2 },
    ]);
    expect((await store.getCaseStates(['C1'])).get('C1')).toMatchObject({ reporterCount: 2, lastReportAt: 3 });
  });
});

describe('Class: DedupeEngine (join: a report an agent put on a case)', () => {
  it('should count the reporter, index the case at the report place and answer a redelivery with that case', async () => {
    // Prepare: a case at one end of the street; the agent attaches a call 150 m away that names the same burst.
    const { engine, store } = setup();
    await engine.process(report({ id: 'c1', location: HERE, citizen: { phone: '13800000001' } }));
    const call = report({
      id: 'h1',
      channel: 'hotline',
      receivedAt: minutes(10),
      location: offset(HERE.lat, HERE.lon, 150, 0),
      citizen: { phone: '13800000002' },
      text: '和平路北口水管爆裂，路面都是水',
    });
    // Act
    const joined = await engine.join(call, 'c1', 'incident');
    const again = await engine.join(call, 'c1', 'incident');
    const redelivered = await engine.process(call);
    const nearCall = await engine.process(
      report({
        id: 'w1',
        receivedAt: minutes(20),
        location: offset(HERE.lat, HERE.lon, 170, 10),
        citizen: { phone: '13800000003' },
        text: '和平路北口自来水管爆了',
      }),
    );
    // Assess
    expect(joined).toMatchObject({ relation: 'incident', caseId: 'c1', reporterCount: 2 });
    expect(again).toMatchObject({ caseId: 'c1', reporterCount: 2 });
    expect(redelivered).toMatchObject({ caseId: 'c1', replayed: true, reporterCount: 2 });
    expect(nearCall).toMatchObject({ relation: 'incident', caseId: 'c1', reporterCount: 3 });
    expect((await store.getCaseStates(['c1'])).get('c1')?.reporterCount).toBe(3);
  });

  it('should keep an earlier decision of the engine about the same report', async () => {
    // Prepare: triage already filed the report as its own case.
    const { engine } = setup();
    await engine.process(report({ id: 'c1', location: HERE }));
    const far = report({
      id: 'h2',
      location: offset(HERE.lat, HERE.lon, 5000, 0),
      citizen: { phone: '13800000009' },
      text: '滨河大道88号小区自来水管漏水',
    });
    const filed = await engine.process(far);
    // Act
    const joined = await engine.join(far, 'c1', 'incident');
    // Assess
    expect(filed).toMatchObject({ relation: 'new', caseId: 'h2' });
    expect(joined).toMatchObject({ caseId: 'h2', replayed: true });
  });
});
