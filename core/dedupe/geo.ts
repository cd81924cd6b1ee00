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
  return precision <= MAX_GRID_PRECISION
    ? hashOf(cellOf(lat, lon, precision), precision)
    : ngeohash.encode(lat, lon, precision);
}

/**
 * Cells as integer (row, column) pairs, so the search below needs no string encoding and decoding per neighbour.
 * Same cells as ngeohash: the same bisection (a point on a boundary goes to the lower cell), bounding boxes that are
 * the same dyadic numbers, neighbours that wrap around in longitude and stop at the poles. Checked equal to the
 * string search up to precision 10 (cells under a metre; dedupe uses 5–8); finer cells take the string search, where
 * ngeohash's float neighbours drift.
 */
const MAX_GRID_PRECISION = 10;
const BASE32 = '0123456789bcdefghjkmnpqrstuvwxyz';
const latBitsOf = (precision: number) => Math.floor((5 * precision) / 2);
const lonBitsOf = (precision: number) => Math.ceil((5 * precision) / 2);

interface Cell {
  row: number;
  col: number;
}

function cellOf(lat: number, lon: number, precision: number): Cell {
  let minLat = -90;
  let maxLat = 90;
  let minLon = -180;
  let maxLon = 180;
  let row = 0;
  let col = 0;
  for (let b = 0; b < 5 * precision; b++) {
    if (b % 2 === 0) {
      const mid = (maxLon + minLon) / 2;
      if (lon > mid) {
        col = col * 2 + 1;
        minLon = mid;
      } else {
        col *= 2;
        maxLon = mid;
      }
    } else {
      const mid = (maxLat + minLat) / 2;
      if (lat > mid) {
        row = row * 2 + 1;
        minLat = mid;
      } else {
        row *= 2;
        maxLat = mid;
      }
    }
  }
  return { row, col };
}

function hashOf(c: Cell, precision: number): string {
  const latBits = latBitsOf(precision);
  const lonBits = lonBitsOf(precision);
  let out = '';
  let v = 0;
  // Row and column have at most 25 bits here (precision ≤ 10): plain int32 shifts.
  let lonShift = lonBits - 1;
  let latShift = latBits - 1;
  for (let b = 0; b < 5 * precision; b++) {
    const bit = b % 2 === 0 ? (c.col >>> lonShift--) & 1 : (c.row >>> latShift--) & 1;
    v = v * 2 + bit;
    if (b % 5 === 4) {
      out += BASE32[v]!;
      v = 0;
    }
  }
  return out;
}

function distanceToCellAt(lat: number, lon: number, c: Cell, latStep: number, lonStep: number): number {
  const minLat = -90 + c.row * latStep;
  const minLon = -180 + c.col * lonStep;
  const cLat = Math.min(Math.max(lat, minLat), minLat + latStep);
  const cLon = Math.min(Math.max(lon, minLon), minLon + lonStep);
  return haversineMeters(lat, lon, cLat, cLon);
}

/** Neighbours clockwise from north (ngeohash's order): row and column steps. */
const N_ROW = [1, 1, 0, -1, -1, -1, 0, 1];
const N_COL = [0, 1, 1, 1, 0, -1, -1, -1];

/** Hard cap on cells per lookup: keeps the per-report cost bounded even for a radius larger than a cell. */
export const MAX_CELLS = 16;

/**
 * Every cell of `precision` that the disk of `radiusMeters` around the point touches, own cell first, sorted after.
 * Grows from the own cell through neighbours (bounded by MAX_CELLS), so it stays correct when cells are narrower
 * than the radius (high latitudes).
 */
export function cellsWithin(lat: number, lon: number, radiusMeters: number, precision: number): string[] {
  if (precision > MAX_GRID_PRECISION) return cellsWithinByStrings(lat, lon, radiusMeters, precision);
  const rows = 2 ** latBitsOf(precision);
  const cols = 2 ** lonBitsOf(precision);
  const latStep = 180 / rows;
  const lonStep = 360 / cols;
  const own = cellOf(lat, lon, precision);
  const found: Cell[] = [own];
  const seen = new Set<number>([own.row * cols + own.col]);
  for (let q = 0; q < found.length && found.length < MAX_CELLS; q++) {
    const cell = found[q]!;
    for (let d = 0; d < 8; d++) {
      if (found.length >= MAX_CELLS) break;
      const row = Math.min(Math.max(cell.row + N_ROW[d]!, 0), rows - 1);
      const col = (cell.col + N_COL[d]! + cols) % cols;
      const id = row * cols + col;
      if (seen.has(id)) continue;
      const n = { row, col };
      if (distanceToCellAt(lat, lon, n, latStep, lonStep) <= radiusMeters) {
        seen.add(id);
        found.push(n);
      }
    }
  }
  const rest = found
    .slice(1)
    .map((c) => hashOf(c, precision))
    .sort();
  return [hashOf(own, precision), ...rest];
}

function distanceToCell(lat: number, lon: number, cell: string): number {
  const [minLat, minLon, maxLat, maxLon] = ngeohash.decode_bbox(cell);
  const cLat = Math.min(Math.max(lat, minLat), maxLat);
  const cLon = Math.min(Math.max(lon, minLon), maxLon);
  return haversineMeters(lat, lon, cLat, cLon);
}

/** The same search on geohash strings (ngeohash), for precisions finer than the integer grid's. */
function cellsWithinByStrings(lat: number, lon: number, radiusMeters: number, precision: number): string[] {
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
