import { describe, expect, it } from 'vitest';
import { gcj02ToWgs84, outOfChina, toWgs84, wgs84ToGcj02 } from '#channels/wechat/gcj02.ts';

/** Published pairs of the reference implementation (googollee/eviltransform tests): WGS-84 → GCJ-02. */
const KNOWN = [
  {
    name: 'Shanghai',
    wgs: { lat: 31.1774276, lon: 121.5272106 },
    gcj: { lat: 31.17530398364597, lon: 121.531541859215 },
  },
  {
    name: 'Shenzhen',
    wgs: { lat: 22.543847, lon: 113.912316 },
    gcj: { lat: 22.540796131694766, lon: 113.9171764808363 },
  },
  {
    name: 'Beijing',
    wgs: { lat: 39.911954, lon: 116.377817 },
    gcj: { lat: 39.91334545536069, lon: 116.38404722455657 },
  },
];

/** Metres between two nearby points (equirectangular; fine at these distances). */
function metres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const r = 6_371_000;
  const x = ((b.lon - a.lon) * Math.PI * Math.cos(((a.lat + b.lat) * Math.PI) / 360)) / 180;
  const y = ((b.lat - a.lat) * Math.PI) / 180;
  return Math.hypot(x, y) * r;
}

describe('Function: wgs84ToGcj02', () => {
  it.each(KNOWN.map((k) => [k.name, k] as const))('should match the published offset for %s', (_n, k) => {
    // Act
    const g = wgs84ToGcj02(k.wgs);

    // Assess
    expect(g.lat).toBeCloseTo(k.gcj.lat, 10);
    expect(g.lon).toBeCloseTo(k.gcj.lon, 10);
  });
});

describe('Function: gcj02ToWgs84', () => {
  it.each(KNOWN.map((k) => [k.name, k] as const))(
    'should invert the published offset for %s to below 1 mm',
    (_n, k) => {
      // Act
      const w = gcj02ToWgs84(k.gcj);

      // Assess
      expect(metres(w, k.wgs)).toBeLessThan(0.001);
      // The offset itself is hundreds of metres: the conversion matters for distance math.
      expect(metres(k.gcj, k.wgs)).toBeGreaterThan(100);
    },
  );

  it('should round-trip points across mainland China', () => {
    // Prepare
    const grid: { lat: number; lon: number }[] = [];
    for (let lat = 18.5; lat <= 53; lat += 2.3) for (let lon = 74; lon <= 134; lon += 3.7) grid.push({ lat, lon });

    // Act
    const worst = Math.max(...grid.map((p) => metres(wgs84ToGcj02(gcj02ToWgs84(p)), p)));

    // Assess
    expect(worst).toBeLessThan(0.001);
  });

  it('should leave points outside China unchanged', () => {
    // Prepare
    const points = [
      { lat: 48.8584, lon: 2.2945 },
      { lat: -33.8568, lon: 151.2153 },
      { lat: 40.7128, lon: -74.006 },
    ];

    // Act
    const out = points.map(gcj02ToWgs84);

    // Assess
    expect(out).toEqual(points);
    expect(points.every(outOfChina)).toBe(true);
    expect(wgs84ToGcj02(points[0] ?? { lat: 0, lon: 0 })).toEqual(points[0]);
  });
});

describe('Function: toWgs84', () => {
  it('should convert only GCJ-02 tagged points', () => {
    // Prepare
    const k = KNOWN[1];
    if (!k) throw new Error('no sample');

    // Act
    const fromGcj = toWgs84({ ...k.gcj, datum: 'GCJ02' });
    const fromWgs = toWgs84({ ...k.wgs, datum: 'WGS84' });
    const untagged = toWgs84(k.wgs);

    // Assess
    expect(metres(fromGcj, k.wgs)).toBeLessThan(0.001);
    expect(fromWgs).toEqual(k.wgs);
    expect(untagged).toEqual(k.wgs);
  });
});
