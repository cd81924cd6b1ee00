import { describe, expect, it } from 'vitest';
import { LOCAL_MAX_POLLERS, localMaxPollers } from '#local/stack.ts';

describe('Function: localMaxPollers', () => {
  it('should default to LOCAL_MAX_POLLERS without CITYLOOP_LOCAL_POLLERS', () => {
    // Act
    const n = localMaxPollers({});
    // Assess
    expect(n).toBe(LOCAL_MAX_POLLERS);
    expect(n).toBe(1);
  });

  it('should take a whole number from 1 to 32 from CITYLOOP_LOCAL_POLLERS', () => {
    expect(localMaxPollers({ CITYLOOP_LOCAL_POLLERS: '4' })).toBe(4);
    expect(localMaxPollers({ CITYLOOP_LOCAL_POLLERS: '32' })).toBe(32);
  });

  it('should ignore a value that is not a whole number from 1 to 32', () => {
    for (const v of ['0', '33', '2.5', 'many', '', '-1', '4x']) {
      expect(localMaxPollers({ CITYLOOP_LOCAL_POLLERS: v }), v).toBe(LOCAL_MAX_POLLERS);
    }
  });
});
