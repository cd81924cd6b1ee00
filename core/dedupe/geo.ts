/**
 * Geo for dedupe: haversine distance and geohash cells. Coordinates are WGS-84 here; callers convert GCJ-02
 * (WeChat) first. Cells are keys: a report is stored under its own cell and looks in every cell its search disk
 * touches, so two reports within R metres always meet, whatever the cell boundaries.
 */
import ngeohash from 'ngeohash';

const EARTH_RADIUS_M = 6_371_008.8;
const toRad = (d: number) => (d * Math.PI) / 180;

export function haversineMeters(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = toRad(lat2 - lat1);
  const dLon = toRad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Height in metres of a geohash cell of this precision (latitude bits are floor(5p/2)). */
export function cellHeightMeters(precision: number): number {
  const latBits = Math.floor((5 * precision) / 2);
  return (180 / 2 ** latBits) * 111_195;
}

/**
 * The finest precision whose cells are at least `radiusMeters` tall, so a search disk touches few cells
 * (≤ 2 rows). 300 m → 6 (≈ 1.2 km × 0.6 km); 100 m → 7 (≈ 150 m); 2 km → 5.
 */
export function precisionForRadius(radiusMeters: number): number {
  for (let p = 8; p >= 1; p--) if (cellHeightMeters(p) >= radiusMeters) return p;
  return 1;
}

export function encodeCell(lat: number, lon: number, precision: number): string {
  return ngeohash.encode(lat, lon, precision);
}

function distanceToCell(lat: number, lon: number, cell: string): number {
  const [minLat, minLon, maxLat, maxLon] = ngeohash.decode_bbox(cell);
  const cLat = Math.min(Math.max(lat, minLat), maxLat);
  const cLon = Math.min(Math.max(lon, minLon), maxLon);
  return haversineMeters(lat, lon, cLat, cLon);
}

/** Hard cap on cells per lookup: keeps the per-report cost bounded even for a radius larger than a cell. */
export const MAX_CELLS = 16;

/**
 * Every cell of `precision` that the disk of `radiusMeters` around the point touches, own cell first, sorted after.
 * Grows from the own cell through neighbours (bounded by MAX_CELLS), so it stays correct when cells are narrower
 * than the radius (high latitudes).
 */
export function cellsWithin(lat: number, lon: number, radiusMeters: number, precision: number): string[] {
  const own = ngeohash.encode(lat, lon, precision);
  const found = new Set<string>([own]);
  const queue = [own];
  while (queue.length > 0 && found.size < MAX_CELLS) {
    const cell = queue.shift()!;
    for (const n of ngeohash.neighbors(cell)) {
      if (found.has(n) || found.size >= MAX_CELLS) continue;
      if (distanceToCell(lat, lon, n) <= radiusMeters) {
        found.add(n);
        queue.push(n);
      }
    }
  }
  const rest = [...found].filter((c) => c !== own).sort();
  return [own, ...rest];
}
