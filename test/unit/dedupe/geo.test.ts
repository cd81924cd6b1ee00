import fc from 'fast-check';
import ngeohash from 'ngeohash';
import { describe, expect, it } from 'vitest';
import {
  cellHeightMeters,
  cellsWithin,
  encodeCell,
  haversineMeters,
  MAX_CELLS,
  precisionForRadius,
} from '#core/dedupe/geo.ts';

describe('Function: haversineMeters', () => {
  it('should measure one degree of latitude as about 111 km', () => {
    // Act
    const d = haversineMeters(22, 114, 23, 114);
    // Assess
    expect(d).toBeGreaterThan(111_000);
    expect(d).toBeLessThan(111_400);
  });
});

describe('Function: precisionForRadius', () => {
  it('should pick cells at least as tall as the radius', () => {
    // Act / Assess
    expect(precisionForRadius(300)).toBe(6);
    expect(precisionForRadius(100)).toBe(7);
    expect(precisionForRadius(2000)).toBe(5);
    for (const r of [50, 150, 300, 800, 1500, 5000])
      expect(cellHeightMeters(precisionForRadius(r))).toBeGreaterThanOrEqual(r);
  });
});

describe('Function: cellsWithin', () => {
  it('should include the cell of every point within the radius (the lookup never misses a near report)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -60, max: 60, noNaN: true }),
        fc.double({ min: -179, max: 179, noNaN: true }),
        fc.constantFrom(80, 150, 300, 800, 1500),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        (lat, lon, r, frac, angle) => {
          // Prepare: a point at distance ≤ r
          const d = frac * r * 0.999;
          const lat2 = lat + (d * Math.cos(angle)) / 111_195;
          const lon2 = lon + (d * Math.sin(angle)) / (111_195 * Math.cos((lat * Math.PI) / 180));
          fc.pre(haversineMeters(lat, lon, lat2, lon2) <= r);
          const p = precisionForRadius(r);
          // Act
          const cells = cellsWithin(lat, lon, r, p);
          // Assess
          expect(cells).toContain(ngeohash.encode(lat2, lon2, p));
          expect(cells.length).toBeLessThanOrEqual(MAX_CELLS);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('should return the own cell first and a small bounded set', () => {
    // Act
    const cells = cellsWithin(22.69, 114.35, 300, 6);
    // Assess
    expect(cells[0]).toBe(ngeohash.encode(22.69, 114.35, 6));
    expect(cells.length).toBeLessThanOrEqual(4);
  });
});

describe('Function: cellsWithin (integer grid)', () => {
  /** The search on geohash strings with ngeohash (what the integer grid replaces). */
  function byStrings(lat: number, lon: number, r: number, p: number): string[] {
    const own = ngeohash.encode(lat, lon, p);
    const found = new Set([own]);
    const queue = [own];
    while (queue.length > 0 && found.size < MAX_CELLS) {
      for (const n of ngeohash.neighbors(queue.shift()!)) {
        if (found.has(n) || found.size >= MAX_CELLS) continue;
        const [minLat, minLon, maxLat, maxLon] = ngeohash.decode_bbox(n);
        const d = haversineMeters(
          lat,
          lon,
          Math.min(Math.max(lat, minLat), maxLat),
          Math.min(Math.max(lon, minLon), maxLon),
        );
        if (d <= r) {
          found.add(n);
          queue.push(n);
        }
      }
    }
    return [own, ...[...found].filter((c) => c !== own).sort()];
  }

  it('should give the cells of the ngeohash string search, poles and the date line included', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.constantFrom(-90, 90, 0, 22.5, 89.99)),
        fc.oneof(fc.double({ min: -180, max: 180, noNaN: true }), fc.constantFrom(-180, 180, 0, 114.375, 179.99)),
        fc.constantFrom(5, 80, 300, 1500, 20_000, 200_000),
        fc.integer({ min: 1, max: 12 }),
        (lat, lon, r, p) => {
          // Act / Assess
          expect(cellsWithin(lat, lon, r, p)).toEqual(byStrings(lat, lon, r, p));
          expect(encodeCell(lat, lon, p)).toBe(ngeohash.encode(lat, lon, p));
        },
      ),
      { numRuns: 500 },
    );
  });
});
