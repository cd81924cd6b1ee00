import { describe, expect, it } from 'vitest';
import {
  changedSinceKey,
  collectUpdates,
  daysDescending,
  listRequests,
  requestDayKeys,
} from '#channels/open311/feed.ts';
import type { Case } from '#core/case.ts';
import { MemoryDb, MemoryFeed } from './harness.ts';

const DAY = 86_400_000;

function aCase(id: string, receivedAt: string, updatedAt: string, over: Partial<Case> = {}): Case {
  return {
    caseId: id,
    trackingNo: id,
    state: 'dispatched',
    version: 1,
    category: 'SZ-01',
    nature: '求助',
    urgency: 'normal',
    channel: 'open311',
    title: 't',
    text: 't',
    citizen: { anonymous: true },
    receivedAt,
    updatedAt,
    classification: { confidence: 1, decision: 'auto', reason: 'x' },
    reportCount: 1,
    reporters: [{ trackingNo: id, channel: 'open311', receivedAt, relation: 'new' }],
    announcedVersion: 1,
    history: [
      {
        at: receivedAt,
        actor: { role: 'system', id: 'triage' },
        action: 'dispatch',
        to: 'dispatched',
        text: '已派单',
        visibility: 'public',
      },
    ],
    ...over,
  };
}

describe('Feed: the reqday index and what is read through it', () => {
  it('should key a case by its Shanghai request day and its +08:00 update time', () => {
    // 23:30 UTC on the 27th is the 28th in Shanghai.
    expect(requestDayKeys(aCase('20251128000001', '2025-11-27T23:30:00Z', '2025-11-28T09:00:00.000Z'))).toEqual({
      reqDayPk: 'REQDAY#20251128',
      reqDaySk: '2025-11-28T17:00:00.000+08:00#20251128000001',
    });
    expect(requestDayKeys(aCase('x', 'not a date', '2025-11-28T09:00:00Z'))).toEqual({});
    // The range bound sorts before every key changed at or after the instant.
    expect(changedSinceKey(Date.parse('2025-11-28T17:00:00+08:00')) <= '2025-11-28T17:00:00.000+08:00#2').toBe(true);
  });

  it('should walk Shanghai days newest first, both ends included', () => {
    const from = Date.parse('2025-11-26T23:59:00+08:00');
    const to = Date.parse('2025-11-28T00:01:00+08:00');
    expect(daysDescending(from, to)).toEqual(['20251128', '20251127', '20251126']);
    expect(daysDescending(to, to)).toEqual(['20251128']);
    expect(daysDescending(to - 90 * DAY, to)).toHaveLength(91);
  });

  it('should page requests newest first and stop reading days once the page is full', async () => {
    // Prepare: one case a day for 10 days.
    const db = new MemoryDb();
    for (let d = 1; d <= 10; d++) {
      const day = String(d).padStart(2, '0');
      db.cases.set(
        `202511${day}000001`,
        aCase(`202511${day}000001`, `2025-11-${day}T10:00:00.000+08:00`, `2025-11-${day}T10:00:00.000+08:00`),
      );
    }
    const feed = new MemoryFeed(db);
    const q = {
      fromMs: Date.parse('2025-11-01T00:00:00+08:00'),
      toMs: Date.parse('2025-11-30T23:59:59+08:00'),
      page: 1,
      pageSize: 3,
    };
    // Act
    const first = await listRequests(feed, q, 4);
    const reads = feed.queries;
    const third = await listRequests(feed, { ...q, page: 3 }, 4);
    // Assess
    expect(first.map((c) => c.caseId)).toEqual(['20251110000001', '20251109000001', '20251108000001']);
    expect(reads).toBeLessThan(30);
    expect(third.map((c) => c.caseId)).toEqual(['20251104000001', '20251103000001', '20251102000001']);
  });

  it('should find a case changed in the window, requested within the look-back, and only once', async () => {
    const db = new MemoryDb();
    const old = aCase('20250801000001', '2025-08-01T10:00:00.000+08:00', '2025-11-28T10:30:00.000+08:00');
    old.history.push({
      at: '2025-11-28T10:30:00.000+08:00',
      actor: { role: 'department', id: 's' },
      action: 'resolve',
      to: 'resolved',
      text: '已修复',
      visibility: 'public',
    });
    db.cases.set(old.caseId, old);
    db.cases.set(
      '20251128000002',
      aCase('20251128000002', '2025-11-28T09:00:00.000+08:00', '2025-11-28T09:00:00.000+08:00'),
    );
    const feed = new MemoryFeed(db);
    const q = {
      fromMs: Date.parse('2025-11-28T10:00:00+08:00'),
      toMs: Date.parse('2025-11-28T11:00:00+08:00'),
      page: 1,
      pageSize: 100,
    };
    const found = await collectUpdates(feed, q, { lookbackDays: 180, scope: 'open311' });
    expect(found.map((u) => [u.service_request_id, u.status])).toEqual([['20250801000001', 'IN_PROGRESS']]);
    // Outside the look-back the old case is not seen: the documented limit.
    const short = await collectUpdates(feed, q, { lookbackDays: 30, scope: 'open311' });
    expect(short).toEqual([]);
  });
});
