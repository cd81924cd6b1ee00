import { afterEach, describe, expect, it } from 'vitest';
import { setLogSink } from '#functions/lib/log.ts';
import { emitSlaMetrics } from '#functions/sweep.ts';

describe('Function: emitSlaMetrics', () => {
  const lines: string[] = [];
  afterEach(() => {
    lines.length = 0;
  });

  it('should write one Embedded Metric Format line with the warning, breach and chase counts', () => {
    // Prepare
    setLogSink((l) => lines.push(l));
    // Act
    emitSlaMetrics({ warnings: 3, breaches: 2, chases: 1 }, 1_764_300_000_000);
    // Assess
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0] ?? '{}');
    expect(emf._aws.Timestamp).toBe(1_764_300_000_000);
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'CityLoop',
      Metrics: [
        { Name: 'SlaWarnings', Unit: 'Count' },
        { Name: 'SlaBreaches', Unit: 'Count' },
        { Name: 'SlaChases', Unit: 'Count' },
      ],
    });
    expect(emf).toMatchObject({ SlaWarnings: 3, SlaBreaches: 2, SlaChases: 1 });
  });
});
