import { describe, expect, it } from 'vitest';
import { run } from '../../../cli/commands/sla.ts';
import { captureOutput } from '../cli/capture.ts';

const { stdout, stderr } = captureOutput();

describe('Command: cityloop sla', () => {
  it('should print the due instant of the issue example: 5 working days from 2025-09-30 10:00', async () => {
    // Act
    const code = await run(['due', '--received', '2025-09-30T10:00+08:00', '--working-days', '5']);

    // Assess
    expect(code).toBe(0);
    expect(stdout.join('')).toBe('2025-10-14T23:59:59.999+08:00\n');
    expect(stderr.join('')).toBe('');
  });

  it('should count --hours around the clock and --working-hours in office time', async () => {
    // Act
    const a = await run(['due', '--received', '2025-09-30T23:30:00Z', '--hours', '2']);
    const b = await run(['due', '--received', '2025-09-30T17:00+08:00', '--working-hours', '2']);

    // Assess
    expect([a, b]).toEqual([0, 0]);
    expect(stdout.join('')).toBe('2025-10-01T09:30:00.000+08:00\n2025-10-09T10:00:00.000+08:00\n');
  });

  it('should say when the answer is provisional (past the covered calendar)', async () => {
    // Act
    const code = await run(['due', '--received', '2026-12-28T10:00+08:00', '--working-days', '5', '--json']);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ due: '2027-01-04T23:59:59.999+08:00', provisional: true });
    expect(stderr.join('')).toContain('provisional');
  });

  it.each([
    [['due', '--received', '2025-09-30T10:00', '--working-days', '5']],
    [['due', '--received', '2025-09-30T10:00+08:00']],
    [['due', '--received', '2025-09-30T10:00+08:00', '--working-days', '5', '--hours', '2']],
    [['due', '--received', '2025-09-30T10:00+08:00', '--working-days', '1.5']],
    [['due', '--bogus']],
    [['nope']],
  ])('should refuse %j with exit code 2', async (args) => {
    // Act
    const code = await run(args);

    // Assess
    expect(code).toBe(2);
    expect(stderr.join('')).toContain('usage');
  });

  it('should list the holidays and make-up days of a year', async () => {
    // Act
    const code = await run(['calendar', '--year', '2026']);

    // Assess
    const text = stdout.join('');
    expect(code).toBe(0);
    expect(text).toContain('2026-02-14 周六  调休上班');
    expect(text).toContain('2026-02-23 周一  放假');
    expect(text.split('\n').filter((l) => l.includes('调休上班'))).toHaveLength(6);
  });

  it('should say a year past the calendar is not covered', async () => {
    // Act
    const code = await run(['calendar', '--year', '2027', '--json']);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({
      year: 2027,
      covered: false,
      coveredUntil: '2026-12-31',
      days: [],
    });
  });

  it('should print the deadlines of a case and the resolved policy', async () => {
    // Act
    const a = await run(['deadlines', '--received', '2025-09-30T10:00+08:00', '--nature', '投诉', '--json']);
    const printed = JSON.parse(stdout.join(''));
    stdout.length = 0;
    const b = await run(['policy', '--policy', 'emergency', '--urgency', 'emergency', '--nature', '求助']);

    // Assess
    expect([a, b]).toEqual([0, 0]);
    expect(printed).toMatchObject({ policyId: 'standard/投诉/normal', resolveDue: '2025-10-14T23:59:59.999+08:00' });
    expect(JSON.parse(stdout.join(''))).toMatchObject({ resolve: { limit: { hours: 24 } } });
  });

  it('should report an unknown policy id by its code', async () => {
    // Act
    const code = await run(['policy', '--policy', 'standrad']);

    // Assess
    expect(code).toBe(2);
    expect(stderr.join('')).toContain('UNKNOWN_SLA_POLICY');
  });

  it('should confirm the calendar snapshot matches the installed chinese-days', async () => {
    // Act
    const code = await run(['snapshot', '--check']);

    // Assess
    expect(code).toBe(0);
    expect(stdout.join('')).toContain('snapshot up to date');
  });
});
