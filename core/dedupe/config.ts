/**
 * Dedupe settings as data (`config/dedupe.json`): every threshold has a default and can be overridden per dedupe
 * group (a water main is reported from further away and for longer than a noisy party).
 */
import * as z from 'zod/mini';
import { CityLoopError } from '../errors.ts';

const IncidentSettings = z.object({
  /** Reports this close (metres, from coordinates) may be one incident. */
  radiusMeters: z.number().check(z.gt(0), z.lte(20_000)),
  /** ... if the incident had a report within this many hours. Also the size of the time bucket of the keys. */
  windowHours: z.number().check(z.gt(0), z.lte(24 * 30)),
  /** Minimum text score (see `textScore`) between two reports of one incident. */
  minTextSimilarity: z.number().check(z.gte(0), z.lte(1)),
  /** Minimum text score when the reports share a precise place key (door number, building, crossing). */
  placeMinTextSimilarity: z.number().check(z.gte(0), z.lte(1)),
  /** Minimum text score when the only shared place is a whole road (路/大道 without a number). */
  roadMinTextSimilarity: z.number().check(z.gte(0), z.lte(1)),
});
export type IncidentSettings = z.infer<typeof IncidentSettings>;

const RepeatSettings = z.object({
  /** A closed case is reopened (重办) by a repeat within this many days of its closure; after that, a new case. */
  windowDays: z.number().check(z.gt(0), z.lte(3650)),
  minTextSimilarity: z.number().check(z.gte(0), z.lte(1)),
  /** From this text score on, the same citizen's report is a repeat whatever the two categories say. */
  anyGroupTextSimilarity: z.number().check(z.gte(0), z.lte(1)),
});
export type RepeatSettings = z.infer<typeof RepeatSettings>;

const GroupOverride = z.object({
  incident: z.optional(z.partial(IncidentSettings)),
  repeat: z.optional(z.partial(RepeatSettings)),
});

export const DedupeConfigSchema = z.object({
  text: z.object({
    /** MinHash permutations kept per text (signature size): 64 × 4 bytes. */
    permutations: z.number().check(z.int(), z.gte(8), z.lte(256)),
    /** Texts with at most this many distinct shingles also keep their whole set (exact comparison). */
    maxExactShingles: z.number().check(z.int(), z.gte(0), z.lte(4096)),
    /** Weight of containment (short text inside a long one) against Jaccard in the text score. */
    containmentWeight: z.number().check(z.gte(0), z.lte(1)),
    /** Boilerplate removed before comparing (salutations, thanks), after NFKC and lowercasing. */
    stopPhrases: z.array(z.string()),
  }),
  resubmission: z.object({
    /** Without a channel message id: same citizen + same text within this many minutes is the same submission. */
    contentHashMinutes: z.number().check(z.gt(0), z.lte(24 * 60)),
  }),
  /**
   * Near-identical text from other citizens without a shared place (copy-paste petitions, one person with several
   * accounts, a forwarded letter): found through MinHash LSH band keys, merged when the Jaccard estimate is this high.
   */
  nearDuplicate: z.object({
    minJaccard: z.number().check(z.gte(0.3), z.lte(1)),
    windowDays: z.number().check(z.gt(0), z.lte(365)),
    /** LSH bands over the signature (permutations / bands rows each); 16 × 4 finds J ≥ 0.7 with p ≈ 0.99. */
    bands: z.number().check(z.int(), z.gte(1), z.lte(64)),
    /** Only texts with at least this many distinct shingles take part (short texts are alike by chance). */
    minShingles: z.number().check(z.int(), z.gte(1)),
  }),
  /** Reporter counts at which `Case.IncidentGrew` is announced (热点). */
  growthThresholds: z.array(z.number().check(z.int(), z.gt(1))),
  defaults: z.object({ incident: IncidentSettings, repeat: RepeatSettings }),
  /** Per dedupe group overrides. */
  groups: z.record(z.string(), GroupOverride),
  /** Dedupe group → the taxonomy groups (or category codes) it gathers: categories that may merge into one incident. */
  families: z.record(z.string(), z.array(z.string())),
  /**
   * Extra words per dedupe group for the keyword fallback (used only when a report has no category): colloquial
   * forms the taxonomy keywords miss (水管爆了, 没电了).
   */
  keywords: z.record(z.string(), z.array(z.string())),
  /** Groups that are compatible with any other for repeats (catch-all categories, unknown). */
  looseGroups: z.array(z.string()),
  protocol: z.object({
    /** Incident anchors per (group, cell|place, bucket): distinct incidents that can start in one cell and window. */
    anchorSlots: z.number().check(z.int(), z.gte(1), z.lte(32)),
    /** How long a racing worker waits for the case it yielded to (attempts × backoff) before answering anyway. */
    fateWaitAttempts: z.number().check(z.int(), z.gte(0), z.lte(200)),
    fateWaitMs: z.number().check(z.gte(0), z.lte(1000)),
  }),
});
export type DedupeConfig = z.infer<typeof DedupeConfigSchema>;

/** Built-in defaults (no families, no per-group overrides); `config/dedupe.json` is the shipped configuration. */
export const DEFAULT_DEDUPE_CONFIG: DedupeConfig = {
  text: {
    permutations: 64,
    maxExactShingles: 256,
    containmentWeight: 0.3,
    stopPhrases: [
      '尊敬的',
      '领导',
      '您好',
      '你好',
      '谢谢',
      '感谢',
      '麻烦',
      '请问',
      '书记',
      '市长',
      '县长',
      '有关部门',
      '相关部门',
      '盼复',
    ],
  },
  resubmission: { contentHashMinutes: 10 },
  nearDuplicate: { minJaccard: 0.7, windowDays: 30, bands: 16, minShingles: 80 },
  growthThresholds: [5, 20, 100],
  defaults: {
    incident: {
      radiusMeters: 300,
      windowHours: 6,
      minTextSimilarity: 0.1,
      placeMinTextSimilarity: 0.05,
      roadMinTextSimilarity: 0.25,
    },
    repeat: { windowDays: 30, minTextSimilarity: 0.2, anyGroupTextSimilarity: 0.5 },
  },
  groups: {},
  families: {},
  keywords: {},
  looseGroups: ['unknown'],
  protocol: { anchorSlots: 4, fateWaitAttempts: 40, fateWaitMs: 25 },
};

/** Validates a parsed `config/dedupe.json`-shaped value, filling missing sections from the defaults. */
export function parseDedupeConfig(input: unknown): DedupeConfig {
  const raw = (input ?? {}) as Partial<Record<keyof DedupeConfig, unknown>>;
  const d = DEFAULT_DEDUPE_CONFIG;
  const merged = {
    text: { ...d.text, ...(raw.text as object) },
    resubmission: { ...d.resubmission, ...(raw.resubmission as object) },
    nearDuplicate: { ...d.nearDuplicate, ...(raw.nearDuplicate as object) },
    growthThresholds: raw.growthThresholds ?? d.growthThresholds,
    defaults: {
      incident: { ...d.defaults.incident, ...((raw.defaults as { incident?: object } | undefined)?.incident ?? {}) },
      repeat: { ...d.defaults.repeat, ...((raw.defaults as { repeat?: object } | undefined)?.repeat ?? {}) },
    },
    groups: raw.groups ?? d.groups,
    families: raw.families ?? d.families,
    keywords: raw.keywords ?? d.keywords,
    looseGroups: raw.looseGroups ?? d.looseGroups,
    protocol: { ...d.protocol, ...(raw.protocol as object) },
  };
  const r = DedupeConfigSchema.safeParse(merged);
  if (!r.success) {
    throw new CityLoopError('INVALID_DEDUPE_CONFIG', 'dedupe config does not validate', 400, r.error.issues);
  }
  const c = r.data;
  c.growthThresholds = [...new Set(c.growthThresholds)].sort((a, b) => a - b);
  return c;
}

export interface GroupSettings {
  incident: IncidentSettings;
  repeat: RepeatSettings;
}

const settingsCache = new WeakMap<DedupeConfig, Map<string, GroupSettings>>();

/** The thresholds for one dedupe group: defaults with the group's overrides on top. */
export function settingsFor(config: DedupeConfig, group: string): GroupSettings {
  let byGroup = settingsCache.get(config);
  if (!byGroup) {
    byGroup = new Map();
    settingsCache.set(config, byGroup);
  }
  let s = byGroup.get(group);
  if (!s) {
    const o = config.groups[group];
    s = {
      incident: { ...config.defaults.incident, ...(o?.incident ?? {}) } as IncidentSettings,
      repeat: { ...config.defaults.repeat, ...(o?.repeat ?? {}) } as RepeatSettings,
    };
    byGroup.set(group, s);
  }
  return s;
}

/** Reporter counts crossed when an incident grows from `oldCount` to `newCount` (e.g. 4 → 6 crosses 5). */
export function crossedThresholds(oldCount: number, newCount: number, thresholds: readonly number[] = [5, 20, 100]) {
  return thresholds.filter((t) => oldCount < t && t <= newCount);
}
