import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crossedThresholds, DEFAULT_DEDUPE_CONFIG, parseDedupeConfig, settingsFor } from '#core/dedupe/config.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { isCityLoopError } from '#core/errors.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';

describe('Function: parseDedupeConfig', () => {
  it('should accept the shipped config/dedupe.json', () => {
    // Act
    const c = parseDedupeConfig(JSON.parse(readFileSync('config/dedupe.json', 'utf8')));
    // Assess
    expect(c.growthThresholds).toEqual([5, 20, 100]);
    expect(settingsFor(c, 'water').incident.radiusMeters).toBe(800);
  });

  it('should fill missing sections from the defaults', () => {
    // Act
    const c = parseDedupeConfig({ defaults: { incident: { radiusMeters: 500 } } });
    // Assess
    expect(c.defaults.incident.radiusMeters).toBe(500);
    expect(c.defaults.incident.windowHours).toBe(DEFAULT_DEDUPE_CONFIG.defaults.incident.windowHours);
    expect(c.text.permutations).toBe(64);
  });

  it('should refuse out-of-range values with a coded error', () => {
    // Act
    let err: unknown;
    try {
      parseDedupeConfig({ defaults: { incident: { radiusMeters: -1 } } });
    } catch (e) {
      err = e;
    }
    // Assess
    expect(isCityLoopError(err) && err.code).toBe('INVALID_DEDUPE_CONFIG');
  });
});

describe('Function: settingsFor', () => {
  it('should apply a group override on top of the defaults', () => {
    // Prepare
    const c = parseDedupeConfig({ groups: { noise: { incident: { radiusMeters: 60 } } } });
    // Act
    const noise = settingsFor(c, 'noise');
    const other = settingsFor(c, 'garbage');
    // Assess
    expect(noise.incident.radiusMeters).toBe(60);
    expect(noise.incident.windowHours).toBe(c.defaults.incident.windowHours);
    expect(other.incident.radiusMeters).toBe(c.defaults.incident.radiusMeters);
  });
});

describe('Function: crossedThresholds', () => {
  it('should report each threshold crossed once', () => {
    // Act / Assess
    expect(crossedThresholds(4, 5)).toEqual([5]);
    expect(crossedThresholds(5, 6)).toEqual([]);
    expect(crossedThresholds(3, 25)).toEqual([5, 20]);
    expect(crossedThresholds(99, 100, [5, 20, 100])).toEqual([100]);
    expect(crossedThresholds(1, 1)).toEqual([]);
  });
});

describe('Function: createGroupResolver', () => {
  const groups = createGroupResolver(defaultDedupeConfig, defaultTaxonomy);

  it('should map a category code to its family', () => {
    // Act / Assess
    expect(groups.resolve({ category: 'GY-01', text: '' })).toMatchObject({
      group: 'water',
      root: 'GY',
      source: 'category',
    });
    expect(groups.resolve({ category: 'SZ-05', text: '' }).group).toBe('water');
    expect(groups.resolve({ category: 'SZ-01', text: '' }).group).toBe('streetlight');
  });

  it('should keep an unknown category as its own group', () => {
    // Act / Assess
    expect(groups.resolve({ category: 'Noise - Residential', text: '' }).group).toBe('Noise - Residential');
  });

  it('should fall back to taxonomy and config keywords without a category', () => {
    // Act / Assess
    expect(groups.resolve({ text: '小区门口水管爆了' }).group).toBe('water');
    expect(groups.resolve({ title: '路灯不亮', text: '晚上很黑' }).group).toBe('streetlight');
    expect(groups.resolve({ text: '今天天气不错' })).toEqual({ group: 'unknown', source: 'none' });
  });
});
