import { describe, expect, it } from 'vitest';
import type { CityLoopError } from '#core/errors.ts';
import { type AggregateRecord, emptyCounters } from '#core/sla/metrics.ts';
import type { HttpEvent } from '#functions/lib/http.ts';
import { metrics } from '#functions/supervisor/metrics.ts';

const NOW = new Date('2025-10-15T10:00:00+08:00');

function event(query: Record<string, string> = {}, groups = '[supervisors]'): HttpEvent {
  return {
    routeKey: 'GET /api/supervisor/metrics',
    queryStringParameters: query,
    headers: {},
    requestContext: { authorizer: { jwt: { claims: { sub: 'sup-001', 'cognito:groups': groups }, scopes: [] } } },
  } as unknown as HttpEvent;
}

function agg(day: string, department: string, counters: Partial<AggregateRecord>): AggregateRecord {
  return { ...emptyCounters(), day, department, category: 'SZ-01', street: '-', channel: 'web', ...counters };
}

const records = [
  agg('2025-10-14', 'chengguan', {
    received: 4,
    dueToClose: 2,
    dueClosed: 2,
    dueClosedOnTime: 1,
    followUps: 2,
    satisfied: 1,
  }),
  agg('2025-10-15', 'chengguan', { received: 2, sameDayClosed: 1 }),
  agg('2025-10-15', 'shuiwu', { received: 1, dueToClose: 1, dueClosed: 0 }),
];

async function failure(p: Promise<unknown>): Promise<CityLoopError> {
  try {
    await p;
  } catch (e) {
    return e as CityLoopError;
  }
  throw new Error('expected a refusal');
}

describe('Function: supervisor-metrics', () => {
  it('should answer the period, per department and per day, from the aggregates', async () => {
    // Prepare
    const asked: string[][] = [];
    const deps = {
      listAggregates: async (from: string, to: string) => {
        asked.push([from, to]);
        return records;
      },
      now: () => NOW,
    };
    // Act
    const res = await metrics(event({ from: '2025-10-14', to: '2025-10-15' }), deps);
    const body = JSON.parse(res.body as string);
    // Assess
    expect(res.statusCode).toBe(200);
    expect(asked).toEqual([['2025-10-14', '2025-10-15']]);
    expect(body.total.counters.received).toBe(7);
    expect(body.total.rates.closeRate).toBeCloseTo(2 / 3);
    expect(body.total.rates.satisfactionRate).toBe(0.5);
    expect(body.byDepartment.map((r: { group: string; name: string }) => [r.group, r.name])).toEqual([
      ['chengguan', '区城市管理和综合执法局'],
      ['shuiwu', '区水务局'],
    ]);
    expect(body.byDepartment[0].gaps.length).toBeGreaterThan(0);
    expect(
      body.byDay.map((r: { group: string; counters: { received: number } }) => [r.group, r.counters.received]),
    ).toEqual([
      ['2025-10-14', 4],
      ['2025-10-15', 3],
    ]);
    expect(body.labels.closeRate).toBe('办结率');
  });

  it('should default to the 30 days up to today in Shanghai', async () => {
    // Prepare
    let period: string[] = [];
    // Act
    await metrics(event(), {
      listAggregates: async (from, to) => {
        period = [from, to];
        return [];
      },
      now: () => new Date('2025-10-15T17:00:00Z'),
    });
    // Assess: 01:00 on the 16th in Shanghai
    expect(period).toEqual(['2025-09-17', '2025-10-16']);
  });

  it('should refuse bad periods and callers who are not supervisors', async () => {
    const deps = { listAggregates: async () => records, now: () => NOW };
    expect((await failure(metrics(event({ from: '2025-10-16', to: '2025-10-15' }), deps))).code).toBe('INVALID_PERIOD');
    expect((await failure(metrics(event({ from: '2024-01-01', to: '2025-10-15' }), deps))).code).toBe('INVALID_PERIOD');
    expect((await failure(metrics(event({ to: '15/10/2025' }), deps))).code).toBe('INVALID_PERIOD');
    const forbidden = await failure(metrics(event({}, '[dept-chengguan]'), deps));
    expect([forbidden.code, forbidden.status]).toEqual(['FORBIDDEN_ROLE', 403]);
    const anonymous = { ...event(), requestContext: {} } as unknown as HttpEvent;
    expect((await failure(metrics(anonymous, deps))).status).toBe(401);
  });
});
