import { describe, expect, it } from 'vitest';
import { type Candidate, decide, incidentMatch } from '#core/dedupe/decide.ts';
import { entryOf, prepareReport, type ReportFeatures } from '#core/dedupe/features.ts';
import { config, groups, HERE, minutes, offset, report } from './helpers.ts';

const f = (p: Parameters<typeof report>[0]): ReportFeatures => prepareReport(report(p), config, groups);
const caseOf = (x: ReportFeatures, caseId = x.id, state?: Extract<Candidate, { kind: 'case' }>['state']): Candidate =>
  state ? { kind: 'case', entry: entryOf(x, caseId), state } : { kind: 'case', entry: entryOf(x, caseId) };

describe('Function: decide', () => {
  it('should call a report with no candidates new', () => {
    // Act
    const d = decide(f({ id: 'a', location: HERE }), [], config);
    // Assess
    expect(d.relation).toBe('new');
    expect(d.caseId).toBeUndefined();
    expect(d.explanation).toMatch(/新工单.*New case/);
  });

  it('should call a lost submission claim a resubmission of the winner case', () => {
    // Act
    const d = decide(
      f({ id: 'b' }),
      [{ kind: 'submission', reportId: 'a', caseId: 'C1', match: 'message-id' }],
      config,
    );
    // Assess
    expect(d).toMatchObject({ relation: 'resubmission', caseId: 'C1', score: 1, matchedReportId: 'a' });
  });

  it('should merge another citizen near in space and time with similar text (并案)', () => {
    // Prepare
    const first = f({ id: 'a', location: HERE, citizen: { phone: '13800000001' } });
    const second = f({
      id: 'b',
      receivedAt: minutes(20),
      text: '和平路自来水管爆了，路上全是水',
      location: offset(HERE.lat, HERE.lon, 120, 80),
      citizen: { phone: '13800000002' },
    });
    // Act
    const d = decide(second, [caseOf(first)], config);
    // Assess
    expect(d.relation).toBe('incident');
    expect(d.caseId).toBe('a');
    expect(d.distanceMeters).toBeGreaterThan(100);
    expect(d.explanation).toMatch(/并案.*Incident/);
  });

  it('should not merge beyond the radius, after the window, across groups, or into a closed case', () => {
    // Prepare
    const first = f({ id: 'a', location: HERE });
    const far = f({
      id: 'b',
      location: offset(HERE.lat, HERE.lon, 900, 0),
      text: '自来水管爆裂，水喷得很高，路面全是水',
    });
    const late = f({ id: 'c', location: HERE, receivedAt: minutes(13 * 60) });
    const noise = f({ id: 'd', location: HERE, category: 'HB-02', text: '和平路12号门口音响太吵' });
    const now = f({ id: 'e', location: HERE, receivedAt: minutes(30) });
    // Act / Assess
    expect(decide(far, [caseOf(first)], config).relation).toBe('new');
    // The same door number in the text is a place match, wherever the reporter stood.
    const farSamePlace = f({ id: 'g', location: offset(HERE.lat, HERE.lon, 900, 0) });
    expect(decide(farSamePlace, [caseOf(first)], config).relation).toBe('incident');
    expect(decide(late, [caseOf(first)], config).relation).toBe('new');
    expect(decide(noise, [caseOf(first)], config).relation).toBe('new');
    expect(
      decide(now, [caseOf(first, 'a', { status: 'closed', closedAt: minutes(10), reporterCount: 1 })], config).relation,
    ).toBe('new');
  });

  it('should keep an incident alive while reports keep coming (time from the last report)', () => {
    // Prepare
    const first = f({ id: 'a', location: HERE });
    const later = f({ id: 'b', location: HERE, receivedAt: minutes(15 * 60) });
    // Act
    const d = decide(
      later,
      [caseOf(first, 'a', { status: 'open', lastReportAt: minutes(10 * 60), reporterCount: 9 })],
      config,
    );
    // Assess
    expect(d.relation).toBe('incident');
  });

  it('should merge by place key when there are no coordinates, with the place threshold', () => {
    // Prepare
    const first = f({ id: 'a', location: { address: '坪山区和平路１２号' } });
    const second = f({
      id: 'b',
      receivedAt: minutes(5),
      text: '和平路12号水管爆裂漏水',
      location: { address: '和平路十二号门口' },
    });
    const other = f({
      id: 'c',
      receivedAt: minutes(5),
      text: '停车场收费太贵',
      location: { address: '和平路十二号门口' },
    });
    // Act / Assess
    expect(decide(second, [caseOf(first)], config)).toMatchObject({ relation: 'incident', caseId: 'a' });
    expect(decide(other, [caseOf(first)], config).relation).toBe('new');
  });

  it('should attach the same citizen with similar text to their open case (重复件)', () => {
    // Prepare
    const first = f({
      id: 'a',
      citizen: { openid: 'o-1' },
      category: 'ZF-01',
      text: '景蓉华苑物业乱收停车费，业委会不作为',
    });
    const again = f({
      id: 'b',
      receivedAt: minutes(3 * 24 * 60),
      citizen: { openid: 'o-1' },
      category: 'ZF-01',
      text: '再次反映景蓉华苑物业乱收停车费的问题，业委会仍然不作为',
    });
    // Act
    const d = decide(again, [caseOf(first)], config);
    // Assess
    expect(d).toMatchObject({ relation: 'repeat', caseId: 'a' });
    expect(d.reopen).toBeUndefined();
    expect(d.explanation).toMatch(/重复件.*Repeat/);
  });

  it('should reopen (重办) a closed case within N days and open a new case after', () => {
    // Prepare
    const first = f({
      id: 'a',
      citizen: { phone: '13800000001' },
      text: '和平路路灯不亮已经一周了',
      category: 'SZ-01',
    });
    const soon = f({
      id: 'b',
      receivedAt: minutes(10 * 24 * 60),
      citizen: { phone: '+86 138-0000-0001' },
      text: '和平路路灯还是不亮',
      category: 'SZ-01',
    });
    const late = f({
      id: 'c',
      receivedAt: minutes(60 * 24 * 60),
      citizen: { phone: '13800000001' },
      text: '和平路路灯还是不亮',
      category: 'SZ-01',
    });
    const closed = { status: 'closed' as const, closedAt: minutes(2 * 24 * 60), reporterCount: 1 };
    // Act
    const d1 = decide(soon, [caseOf(first, 'a', closed)], config);
    const d2 = decide(late, [caseOf(first, 'a', closed)], config);
    // Assess
    expect(d1).toMatchObject({ relation: 'repeat', caseId: 'a', reopen: true });
    expect(d1.explanation).toMatch(/重办/);
    expect(d2.relation).toBe('new');
  });

  it('should not call a different problem of the same citizen a repeat', () => {
    // Prepare
    const first = f({
      id: 'a',
      citizen: { phone: '13800000001' },
      category: 'JY-01',
      text: '孩子小升初学位分配不合理',
    });
    const other = f({
      id: 'b',
      receivedAt: minutes(60),
      citizen: { phone: '13800000001' },
      category: 'SZ-01',
      text: '和平路路灯不亮',
    });
    // Act / Assess
    expect(decide(other, [caseOf(first)], config).relation).toBe('new');
  });

  it('should call the same citizen near the same incident a repeat even with little text overlap', () => {
    // Prepare
    const first = f({ id: 'a', location: HERE, citizen: { phone: '13800000001' } });
    const again = f({
      id: 'b',
      location: HERE,
      receivedAt: minutes(120),
      citizen: { phone: '13800000001' },
      text: '早上反映的和平路水管还没人来修',
    });
    // Act
    const d = decide(again, [caseOf(first)], config);
    // Assess
    expect(d).toMatchObject({ relation: 'repeat', caseId: 'a' });
  });
});

describe('Function: incidentMatch', () => {
  it('should be symmetric in the two reports', () => {
    // Prepare
    const a = f({ id: 'a', location: HERE });
    const b = f({
      id: 'b',
      location: offset(HERE.lat, HERE.lon, 200, 100),
      receivedAt: minutes(45),
      text: '和平路水管爆裂',
    });
    // Act
    const ab = incidentMatch(a, entryOf(b, 'b'), config);
    const ba = incidentMatch(b, entryOf(a, 'a'), config);
    // Assess
    expect(ab.ok).toBe(ba.ok);
    expect(ab.text).toBeCloseTo(ba.text, 10);
    expect(ab.distanceMeters).toBe(ba.distanceMeters);
  });
});

describe('Function: decide (near-identical text and vague places)', () => {
  const letter =
    '我们是景蓉华苑小区的业主，小区物业公司擅自提高停车费，业委会在未召开业主大会的情况下制定收费方案，投票不公开不透明，' +
    '对投反对票的业主施压，请求有关部门调查处理，维护业主的合法权益，并责令物业公司公开收支账目。';

  it('should merge a near-identical long text from another citizen without any place (copy-paste petition)', () => {
    // Prepare
    const first = f({ id: 'a', category: 'ZF-01', text: letter, citizen: { openid: 'o-1' } });
    const copy = f({
      id: 'b',
      category: 'ZF-01',
      text: `尊敬的领导：${letter}`,
      citizen: { openid: 'o-2' },
      receivedAt: minutes(3 * 24 * 60),
    });
    // Act
    const d = decide(copy, [caseOf(first)], config);
    // Assess
    expect(d).toMatchObject({ relation: 'incident', caseId: 'a' });
    expect(d.explanation).toMatch(/几乎相同/);
  });

  it('should not merge near-identical text that names two different places', () => {
    // Prepare: a template letter sent about two buildings
    const template =
      '小区物业公司擅自提高停车费，业委会在未召开业主大会的情况下制定收费方案，投票不公开不透明，对投反对票的业主施压，' +
      '请求有关部门调查处理，维护业主的合法权益，并责令物业公司公开收支账目，退还多收的费用。';
    const a = f({ id: 'a', category: 'ZF-01', text: `和平路12号${template}`, citizen: { openid: 'o-1' } });
    const b = f({
      id: 'b',
      category: 'ZF-01',
      text: `东门路88号${template}`,
      citizen: { openid: 'o-2' },
      receivedAt: minutes(60 * 24),
    });
    // Act / Assess
    expect(decide(b, [caseOf(a)], config).relation).toBe('new');
  });

  it('should call the same citizen with almost the same text a repeat even across category groups', () => {
    // Prepare
    const a = f({ id: 'a', category: 'ZF-01', text: letter, citizen: { openid: 'o-1' } });
    const b = f({
      id: 'b',
      category: 'SC-02',
      text: letter,
      citizen: { openid: 'o-1' },
      receivedAt: minutes(2 * 24 * 60),
    });
    // Act / Assess
    expect(decide(b, [caseOf(a)], config)).toMatchObject({ relation: 'repeat', caseId: 'a' });
  });

  it('should let a report that names only a road join a case on that road with ordinary text similarity', () => {
    // Prepare: no coordinates, no door number: the road is all it can say
    const first = f({ id: 'a', location: { address: '和平路12号' }, text: '和平路12号门口自来水管爆裂，水喷得很高' });
    const vague = f({ id: 'b', receivedAt: minutes(20), text: '和平路漏水很严重' });
    const precise = f({
      id: 'c',
      receivedAt: minutes(20),
      location: { address: '和平路300号' },
      text: '和平路漏水很严重',
    });
    // Act / Assess
    expect(vague.placeKeys).toEqual(['r:和平路']);
    expect(decide(vague, [caseOf(first)], config)).toMatchObject({ relation: 'incident', caseId: 'a' });
    expect(decide(precise, [caseOf(first)], config).relation).toBe('new');
  });

  it('should prefer the bigger of two matching open cases', () => {
    // Prepare
    const small = f({ id: 'a', location: HERE });
    const big = f({ id: 'b', location: offset(HERE.lat, HERE.lon, 30, 0), receivedAt: minutes(1) });
    const next = f({ id: 'c', location: HERE, receivedAt: minutes(2) });
    // Act
    const d = decide(
      next,
      [
        caseOf(small, 'a', { status: 'open', reporterCount: 1 }),
        caseOf(big, 'b', { status: 'open', reporterCount: 40 }),
      ],
      config,
    );
    // Assess
    expect(d).toMatchObject({ relation: 'incident', caseId: 'b' });
  });
});

describe('Function: decide (two spots, split incidents)', () => {
  const light = (id: string, door: number, phone: string, extra: Parameters<typeof report>[0] | object = {}) =>
    f({
      id,
      category: 'SZ-01',
      text: `和平路${door}号门口的路灯不亮了，晚上很黑`,
      location: { address: `和平路${door}号` },
      citizen: { phone },
      ...extra,
    });

  it('should not call the same citizen about another door on the same road a repeat, unless it is close by', () => {
    // Prepare
    const first = light('a', 88, '13800000001');
    const other = light('b', 99, '13800000001', { receivedAt: minutes(5) });
    const closeBy = light('c', 99, '13800000001', {
      receivedAt: minutes(5),
      location: { address: '和平路99号', ...offset(HERE.lat, HERE.lon, 40, 0) },
    });
    const firstWithCoords = light('d', 88, '13800000001', { location: { address: '和平路88号', ...HERE } });
    // Act / Assess
    expect(decide(other, [caseOf(first)], config).relation).toBe('new');
    expect(decide(closeBy, [caseOf(firstWithCoords)], config)).toMatchObject({ relation: 'repeat', caseId: 'd' });
  });

  it('should not merge two citizens naming two different doors of one road without coordinates', () => {
    // Prepare
    const first = light('a', 88, '13800000001');
    const other = light('b', 99, '13800000002', { receivedAt: minutes(5) });
    const same = light('c', 88, '13800000003', { receivedAt: minutes(6) });
    // Act / Assess: symmetric, as the race protocol needs.
    expect(incidentMatch(other, entryOf(first, 'a'), config).ok).toBe(false);
    expect(incidentMatch(first, entryOf(other, 'b'), config).ok).toBe(false);
    expect(decide(same, [caseOf(first)], config)).toMatchObject({ relation: 'incident', caseId: 'a' });
  });

  it('should gather an early split incident on its main case even when the smaller one fits the text better', () => {
    // Prepare: both cases match; the small one was opened by a report with nearly the same words.
    const small = f({ id: 'a', location: HERE, text: '和平路水管爆了，水漫到马路上，车都过不去' });
    const big = f({ id: 'b', location: offset(HERE.lat, HERE.lon, 60, 0), text: '和平路12号自来水管爆裂，水喷得很高' });
    const next = f({ id: 'c', location: HERE, receivedAt: minutes(2), text: '和平路水管爆了，水漫到马路上' });
    const states = (n: number) => ({ status: 'open' as const, reporterCount: n });
    // Act
    const d = decide(next, [caseOf(small, 'a', states(3)), caseOf(big, 'b', states(120))], config);
    const even = decide(next, [caseOf(small, 'a', states(3)), caseOf(big, 'b', states(3))], config);
    // Assess
    expect(d).toMatchObject({ relation: 'incident', caseId: 'b' });
    expect(even).toMatchObject({ relation: 'incident', caseId: 'a' });
  });
});
