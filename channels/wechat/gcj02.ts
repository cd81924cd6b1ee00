/**
 * GCJ-02 ("Mars coordinates") is the datum Chinese map services and `wx.getLocation({ type: 'gcj02' })` return: WGS-84
 * shifted by an obfuscating offset of a few hundred metres. Distance math (dedupe, 属地 routing) needs WGS-84.
 * The forward formula is the widely published one (Krasovsky 1940 ellipsoid); the inverse has no closed form, so it
 * is solved by fixed-point iteration, which converges to well under a millimetre in a few steps.
 * Outside mainland China's bounding box there is no offset.
 */
export interface LatLon {
  lat: number;
  lon: number;
}

const A = 6378245.0;
// Eccentricity squared of the Krasovsky ellipsoid (published as 0.00669342162296594323; this is its float64).
const EE = 0.006693421622965943;
const MAX_ITERATIONS = 30;
/** 1e-10 degrees is about 0.01 mm. */
const TOLERANCE_DEG = 1e-10;

/** The rough box the offset applies to (as in the reference implementations); neighbours inside it are shifted too. */
export function outOfChina(p: LatLon): boolean {
  return p.lon < 72.004 || p.lon > 137.8347 || p.lat < 0.8293 || p.lat > 55.8271;
}

function transformLat(x: number, y: number): number {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function transformLon(x: number, y: number): number {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

function offset(p: LatLon): LatLon {
  const dLat = transformLat(p.lon - 105.0, p.lat - 35.0);
  const dLon = transformLon(p.lon - 105.0, p.lat - 35.0);
  const radLat = (p.lat / 180.0) * Math.PI;
  const magic = 1 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  return {
    lat: (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI),
    lon: (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI),
  };
}

export function wgs84ToGcj02(p: LatLon): LatLon {
  if (outOfChina(p)) return { lat: p.lat, lon: p.lon };
  const d = offset(p);
  return { lat: p.lat + d.lat, lon: p.lon + d.lon };
}

/** Inverse of `wgs84ToGcj02` by iteration: w ← w − (forward(w) − g). */
export function gcj02ToWgs84(g: LatLon): LatLon {
  if (outOfChina(g)) return { lat: g.lat, lon: g.lon };
  let w = { lat: g.lat, lon: g.lon };
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    const d = offset(w);
    const errLat = w.lat + d.lat - g.lat;
    const errLon = w.lon + d.lon - g.lon;
    w = { lat: w.lat - errLat, lon: w.lon - errLon };
    if (Math.abs(errLat) < TOLERANCE_DEG && Math.abs(errLon) < TOLERANCE_DEG) break;
  }
  return w;
}

/** WGS-84 of a location tagged with its datum (unknown datum is taken as WGS-84, as browsers and Open311 send). */
export function toWgs84(p: LatLon & { datum?: 'WGS84' | 'GCJ02' }): LatLon {
  return p.datum === 'GCJ02' ? gcj02ToWgs84(p) : { lat: p.lat, lon: p.lon };
}
