import { describe, expect, it } from 'vitest';
import { measureBundled } from '../../../bench/pipeline.bench.ts';
import { measurePipeline, STAGES } from '../../../bench/pipeline-probe.ts';

describe('Function: measurePipeline', () => {
  it('should time every step of every report, in this process', () => {
    // Act
    const r = measurePipeline(12, 1);

    // Assess
    expect(r.reports).toBe(12);
    expect(r.whole.median).toBeGreaterThan(0);
    expect(r.whole.p99).toBeGreaterThanOrEqual(r.whole.median);
    expect(r.perSecond).toBeGreaterThan(0);
    for (const s of STAGES) expect(r.stages[s].median).toBeGreaterThan(0);
    expect(r.classifierReason).toBe('keyword-rule');
  });
});

describe('Function: measureBundled', () => {
  it('should bundle the probe like a Lambda and read its result from a fresh process', async () => {
    // Act
    const { result, bytes } = await measureBundled(12, 1);

    // Assess
    expect(bytes).toBeGreaterThan(100_000);
    expect(result.reports).toBe(12);
    expect(result.rounds).toBe(1);
    expect(Object.keys(result.stages).sort()).toEqual([...STAGES].sort());
    expect(result.whole.median).toBeGreaterThan(0);
    expect(result.classifierReason).toBe('keyword-rule');
  }, 60_000);
});
