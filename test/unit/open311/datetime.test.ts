import { describe, expect, it } from 'vitest';
import { formatW3c, parseW3cDateTime, toW3c } from '#channels/open311/datetime.ts';

describe('Function: parseW3cDateTime', () => {
  it.each([
    ['2025-11-28T10:00:00+08:00', '2025-11-28T02:00:00.000Z', false],
    ['2025-11-28T02:00:00Z', '2025-11-28T02:00:00.000Z', false],
    ['2025-11-28T02:00Z', '2025-11-28T02:00:00.000Z', false],
    ['2025-11-27T18:00:00.5-08:00', '2025-11-28T02:00:00.500Z', false],
    ['2025-11-28T10:00:00 08:00', '2025-11-28T02:00:00.000Z', false],
    ['2025-11-28T10:00:00', '2025-11-28T02:00:00.000Z', false],
    ['2025-11-28', '2025-11-27T16:00:00.000Z', true],
    ['2024-02-29', '2024-02-28T16:00:00.000Z', true],
  ])('should read %s', (input, iso, dateOnly) => {
    const t = parseW3cDateTime(input);
    expect(t && new Date(t.ms).toISOString()).toBe(iso);
    expect(t?.dateOnly).toBe(dateOnly);
  });

  it.each([
    '2025-02-29',
    '2025-13-01',
    '2025-11-28T24:00',
    '2025-11-28T10:60',
    '28/11/2025',
    '2025-11-28T10:00+15:00',
    '',
    'now',
  ])('should refuse %s', (input) => {
    expect(parseW3cDateTime(input)).toBeUndefined();
  });

  it('should write seconds precision in +08:00, as W3CDTF parses it', () => {
    expect(formatW3c(Date.parse('2025-11-28T02:00:00.999Z'))).toBe('2025-11-28T10:00:00+08:00');
    expect(toW3c('2025-11-28T10:00:00.123+08:00')).toBe('2025-11-28T10:00:00+08:00');
    expect(toW3c('garbage')).toBeUndefined();
  });
});
