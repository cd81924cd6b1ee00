import { describe, expect, it } from 'vitest';
import { isTrackingNo, shanghaiDay, TRACKING_NO_IN_TEXT, toShanghaiIso } from '#core/ids.ts';
import { TrackingNumbers } from '#core/intake/tracking.ts';

describe('Class: TrackingNumbers', () => {
  it('should hand out unique numbers from reserved blocks, one reservation per block', async () => {
    // Prepare
    let counter = 0;
    let calls = 0;
    const store = {
      reserveSequence: async (_day: string, size: number) => {
        calls++;
        counter += size;
        return counter - size + 1;
      },
    };
    const tn = new TrackingNumbers(store, 5);
    const at = new Date('2025-11-28T01:00:00Z');
    // Act: concurrent callers share the block.
    const got = await Promise.all(Array.from({ length: 12 }, () => tn.allocate(at)));
    // Assess
    expect(new Set(got).size).toBe(12);
    expect(got.every(isTrackingNo)).toBe(true);
    expect(got[0]).toBe('20251128000001');
    expect(calls).toBe(3);
  });

  it('should start a new day at the Shanghai midnight, not the UTC one', async () => {
    const store = { reserveSequence: async () => 1 };
    const tn = new TrackingNumbers(store, 5);
    expect(await tn.allocate(new Date('2025-11-28T16:30:00Z'))).toBe('20251129000001');
    expect(shanghaiDay(new Date('2025-11-28T15:59:59Z'))).toBe('20251128');
    expect(toShanghaiIso(new Date('2025-11-28T16:30:00Z'))).toBe('2025-11-29T00:30:00.000+08:00');
  });

  it('should find a tracking number inside free text', () => {
    expect(TRACKING_NO_IN_TEXT.exec('回复：[受理编号 20251128000123] 路灯')?.[1]).toBe('20251128000123');
    expect(isTrackingNo('20251328000123')).toBe(false);
  });
});
