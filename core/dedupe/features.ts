/**
 * A report as the dedupe engine sees it (features computed once), and its keys.
 * Lookup keys are bounded: the cells the search disk touches (usually 1–4) × ≤ 3 time buckets, the place keys (≤ 4)
 * × the same buckets, the citizen keys (≤ 3), and for long texts 16 LSH band keys × 2 buckets. The cost per report
 * depends on those, never on how many cases are open.
 */
import { hash } from 'node:crypto';
import { maskText } from '../privacy.ts';
import { nfkc, nfkcLowerJoined } from '../text/fold.ts';
import { placeKeys as addressPlaceKeys, MAX_PLACE_KEYS, textPlaceKeysOfLowered } from './address.ts';
import { type DedupeConfig, settingsFor } from './config.ts';
import { cellsWithin, encodeCell, precisionForRadius } from './geo.ts';
import type { GroupResolver } from './groups.ts';
import type { CandidateEntry } from './store.ts';
import {
  fmix32,
  hash64hexOfParts,
  hex8,
  normalizeLowered,
  sketchOfText,
  storedSketch,
  type TextSketch,
} from './text.ts';

/** The input of the engine: one citizen's submission, in the shape of the `cityloop dedupe` JSON lines. */
export interface DedupeReport {
  /** Report id (受理编号 / tracking number): a redelivered report has the same id. */
  id: string;
  /** ISO 8601, or epoch ms. */
  receivedAt: string | number;
  text: string;
  title?: string;
  /** Category code (事项清单 leaf) or group; missing → keywords of the taxonomy. */
  category?: string;
  channel?: string;
  /** The channel's own id for the submission (WeChat MsgId, Message-ID ...): resubmissions share it. */
  channelMessageId?: string;
  /** WGS-84. */
  location?: { lat?: number; lon?: number; address?: string };
  citizen?: { phone?: string; openid?: string; email?: string };
}

export interface ReportFeatures {
  id: string;
  at: number;
  channel?: string;
  channelMessageId?: string;
  group: string;
  root?: string;
  category?: string;
  lat?: number;
  lon?: number;
  placeKeys: string[];
  citizenKeys: string[];
  /** Who counts as one reporter: the first citizen key, or the report itself when anonymous. */
  reporterKey: string;
  sketch: TextSketch;
  /** Citizen + normalized title and text: equal for a double submission. */
  contentHash: string;
  title: string;
}

function citizenDigest(kind: string, id: string): string {
  return hash('sha256', `${kind}:${id}`, 'base64url').slice(0, 22);
}

/** Digests of the citizen's phone (digits, without +86), openid and email (lowercase). */
export function citizenKeysOf(c: DedupeReport['citizen']): string[] {
  const keys: string[] = [];
  if (c?.phone) {
    let digits = nfkc(c.phone).replace(/\D/g, '');
    if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
    if (digits.length >= 5) keys.push(citizenDigest('tel', digits));
  }
  if (c?.openid?.trim()) keys.push(citizenDigest('wx', c.openid.trim()));
  if (c?.email?.trim()) keys.push(citizenDigest('mail', c.email.trim().toLowerCase()));
  return keys;
}

export function toEpochMs(t: string | number): number {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new TypeError(`receivedAt is not a time: ${String(t)}`);
  return ms;
}

const validCoord = (lat?: number, lon?: number): boolean =>
  typeof lat === 'number' &&
  typeof lon === 'number' &&
  Number.isFinite(lat) &&
  Number.isFinite(lon) &&
  Math.abs(lat) <= 90 &&
  Math.abs(lon) <= 180 &&
  !(lat === 0 && lon === 0);

/**
 * Address keys first, then keys found in the title and text; distinct, at most MAX_PLACE_KEYS. `lowered` is
 * `nfkcLowerJoined(parts, ' ')`, for parts [title, text].
 */
function placeKeysOf(address: string | undefined, parts: readonly string[], lowered: string): string[] {
  const keys = address ? addressPlaceKeys(address) : [];
  if (keys.length >= MAX_PLACE_KEYS) return keys.slice(0, MAX_PLACE_KEYS);
  for (const k of textPlaceKeysOfLowered(parts, lowered)) {
    if (!keys.includes(k)) keys.push(k);
    if (keys.length >= MAX_PLACE_KEYS) break;
  }
  return keys;
}

export function prepareReport(report: DedupeReport, config: DedupeConfig, groups: GroupResolver): ReportFeatures {
  const title = report.title ?? '';
  const g = groups.resolve({ category: report.category, title, text: report.text });
  // Title and text folded once, for the sketch and the place keys (`normalizeText` and `textPlaceKeysOf` of the parts).
  const parts = [title, report.text];
  const lowered = nfkcLowerJoined(parts, ' ');
  const norm = normalizeLowered(lowered, config.text.stopPhrases);
  const sketch = sketchOfText(norm, config.text.permutations, config.text.maxExactShingles);
  const citizenKeys = citizenKeysOf(report.citizen);
  const loc = report.location;
  const hasCoords = validCoord(loc?.lat, loc?.lon);
  const who = citizenKeys[0] ?? `anon:${report.channel ?? ''}`;
  // Fields in the order the earlier spread literal gave them (optional ones only when set).
  const f = { id: report.id, at: toEpochMs(report.receivedAt) } as ReportFeatures;
  if (report.channel) f.channel = report.channel;
  if (report.channelMessageId) f.channelMessageId = report.channelMessageId;
  f.group = g.group;
  if (g.root) f.root = g.root;
  if (g.category) f.category = g.category;
  if (hasCoords) {
    f.lat = loc!.lat!;
    f.lon = loc!.lon!;
  }
  f.placeKeys = placeKeysOf(loc?.address, parts, lowered);
  f.citizenKeys = citizenKeys;
  f.reporterKey = citizenKeys[0] ?? `anon:${report.id}`;
  f.sketch = sketch;
  f.contentHash = hash64hexOfParts([who, '\n', norm]);
  // Shown to agents in duplicate suggestions and kept in the index: phone numbers and emails masked.
  f.title = titleOf(title || report.text);
  return f;
}

/** The title shown to agents: whitespace runs as one space, phone numbers and emails masked, 60 characters. */
function titleOf(s: string): string {
  return maskText(s.replace(/\s+/g, ' ')).slice(0, 60);
}

/** The index entry a report writes for `caseId`. */
export function entryOf(f: ReportFeatures, caseId: string): CandidateEntry {
  return {
    caseId,
    reportId: f.id,
    at: f.at,
    group: f.group,
    ...(f.root ? { root: f.root } : {}),
    ...(f.lat !== undefined ? { lat: f.lat, lon: f.lon! } : {}),
    placeKeys: f.placeKeys,
    citizenKeys: f.citizenKeys,
    sketch: storedSketch(f.sketch),
    title: f.title,
  };
}

const HOUR = 3_600_000;
const bucketOf = (at: number, hours: number) => Math.floor(at / (hours * HOUR));

function buckets(from: number, to: number, hours: number): number[] {
  const out: number[] = [];
  for (let b = bucketOf(from, hours); b <= bucketOf(to, hours) && out.length < 4; b++) out.push(b);
  return out;
}

export const keyOf = {
  cell: (group: string, cell: string, bucket: number) => `g|${group}|${cell}|${bucket}`,
  place: (group: string, place: string, bucket: number) => `p|${group}|${place}|${bucket}`,
  citizen: (citizenKey: string) => `c|${citizenKey}`,
  case: (caseId: string) => `k|${caseId}`,
  fate: (caseId: string) => `f|${caseId}`,
  submission: (channel: string, messageId: string) => `s|${channel}|${messageId}`,
  content: (hash: string, bucket: number) => `h|${hash}|${bucket}`,
  anchor: (base: string, slot: number) => `a|${base}#${slot}`,
  band: (band: number, hash: string, bucket: number) => `t|${band}|${hash}|${bucket}`,
};

/**
 * LSH band keys of a long text (empty for short ones): equal band → candidate near-duplicate. Appended to `keys`.
 * The band hash is written as 8 hex digits (the one-permutation signatures give other band keys than the earlier
 * k-permutation ones, whatever the spelling: old band keys are simply no longer read, and expire).
 */
function pushBandKeys(keys: string[], f: ReportFeatures, config: DedupeConfig, buckets: readonly number[]): string[] {
  const nd = config.nearDuplicate;
  if (f.sketch.size < nd.minShingles) return keys;
  const sig = f.sketch.sig;
  const rows = Math.max(1, Math.floor(sig.length / nd.bands));
  // `keyOf.band(b, hash, bucket)`, with the band's head and the buckets' tails written once, not once per key.
  const tails = buckets.map((bucket) => `|${bucket}`);
  for (let b = 0; b < nd.bands && (b + 1) * rows <= sig.length; b++) {
    let h = 0x811c9dc5;
    for (let i = b * rows; i < (b + 1) * rows; i++) h = fmix32(h ^ sig[i]!);
    const head = (BAND_HEADS[b] ?? `t|${b}|`) + hex8(h);
    for (const tail of tails) keys.push(head + tail);
  }
  return keys;
}

/** `keyOf.band`'s text before the hash, for the bands a signature can have (config: at most 64). */
const BAND_HEADS = Array.from({ length: 64 }, (_, b) => `t|${b}|`);

const DAY = 24 * HOUR;

function cellsOf(f: ReportFeatures, config: DedupeConfig): string[] {
  if (f.lat === undefined || f.lon === undefined) return [];
  const r = settingsFor(config, f.group).incident.radiusMeters;
  return cellsWithin(f.lat, f.lon, r, precisionFor(r));
}

/** `precisionForRadius` of the last radius asked (one per group setting: the same few radii every time). */
let lastRadius = Number.NaN;
let lastPrecision = 0;
function precisionFor(radiusMeters: number): number {
  if (radiusMeters !== lastRadius) {
    lastPrecision = precisionForRadius(radiusMeters);
    lastRadius = radiusMeters;
  }
  return lastPrecision;
}

/**
 * The keys to read for one report: cells within R × buckets of [t−T, t+T], place keys × the same buckets,
 * citizen keys. (+T tolerates reports processed out of arrival order.)
 */
export function candidateKeys(f: ReportFeatures, config: DedupeConfig): string[] {
  const T = settingsFor(config, f.group).incident.windowHours;
  const bs = buckets(f.at - T * HOUR, f.at + T * HOUR, T);
  const keys: string[] = [];
  // `keyOf.cell(f.group, cell, b)` and `keyOf.place(f.group, p, b)`, each part written once, not once per key.
  const tails = bs.map((b) => `|${b}`);
  const cells = cellsOf(f, config);
  if (cells.length > 0) {
    const head = `g|${f.group}|`;
    for (const cell of cells) for (const tail of tails) keys.push(head + cell + tail);
  }
  if (f.placeKeys.length > 0) {
    const head = `p|${f.group}|`;
    for (const p of f.placeKeys) for (const tail of tails) keys.push(head + p + tail);
  }
  for (const c of f.citizenKeys) keys.push(keyOf.citizen(c));
  const W = config.nearDuplicate.windowDays;
  return pushBandKeys(keys, f, config, buckets(f.at - W * DAY, f.at, W * 24));
}

/**
 * The keys a report's case is indexed under: its own cell and bucket, its place keys, its citizen keys, and (for the
 * report that opens the case) its text band keys: later reports are compared with the case's first text only.
 */
export function writeKeys(f: ReportFeatures, config: DedupeConfig, opensCase = false): string[] {
  const T = settingsFor(config, f.group).incident.windowHours;
  const b = bucketOf(f.at, T);
  const keys: string[] = [];
  if (f.lat !== undefined && f.lon !== undefined) {
    const r = settingsFor(config, f.group).incident.radiusMeters;
    keys.push(keyOf.cell(f.group, encodeCell(f.lat, f.lon, precisionForRadius(r)), b));
  }
  for (const p of f.placeKeys) keys.push(keyOf.place(f.group, p, b));
  for (const c of f.citizenKeys) keys.push(keyOf.citizen(c));
  if (opensCase) {
    const W = config.nearDuplicate.windowDays;
    pushBandKeys(keys, f, config, [bucketOf(f.at, W * 24)]);
  }
  return keys;
}

/** Anchor bases of a new case, in the one global order every worker claims them in: cells within R and place keys × buckets of [t−T, t]. */
export function anchorBases(f: ReportFeatures, config: DedupeConfig): string[] {
  const T = settingsFor(config, f.group).incident.windowHours;
  const bs = buckets(f.at - T * HOUR, f.at, T);
  const bases: string[] = [];
  for (const cell of cellsOf(f, config)) for (const b of bs) bases.push(`${f.group}|g:${cell}|${b}`);
  for (const p of f.placeKeys) for (const b of bs) bases.push(`${f.group}|p:${p}|${b}`);
  return bases.sort();
}

export function contentBuckets(f: ReportFeatures, config: DedupeConfig): { current: number; previous: number } {
  const size = config.resubmission.contentHashMinutes / 60;
  const current = bucketOf(f.at, size);
  return { current, previous: bucketOf(f.at - size * HOUR, size) };
}
