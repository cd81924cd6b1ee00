/** Shared builders for the dedupe tests: an engine on the in-memory store with the shipped config and taxonomy. */
import { type DedupeConfig, parseDedupeConfig } from '#core/dedupe/config.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createDedupeEngine, type DedupeEngineOptions } from '#core/dedupe/engine.ts';
import type { DedupeReport } from '#core/dedupe/features.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { type DedupeStore, InMemoryDedupeStore } from '#core/dedupe/store.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';

export const config: DedupeConfig = defaultDedupeConfig;
export const groups = createGroupResolver(config, defaultTaxonomy);

export function setup<S extends DedupeStore = InMemoryDedupeStore>(
  opts: { store?: S; config?: DedupeConfig; sleep?: DedupeEngineOptions['sleep'] } = {},
) {
  const store = (opts.store ?? new InMemoryDedupeStore()) as S;
  const cfg = opts.config ?? config;
  const engine = createDedupeEngine({
    store,
    config: cfg,
    groups: createGroupResolver(cfg, defaultTaxonomy),
    sleep: opts.sleep ?? (() => Promise.resolve()),
  });
  return { store, engine };
}

export const T0 = Date.parse('2025-06-01T08:00:00+08:00');
export const minutes = (m: number) => T0 + m * 60_000;

/** Offsets a point by metres north and east. */
export function offset(lat: number, lon: number, north: number, east: number): { lat: number; lon: number } {
  return { lat: lat + north / 111_195, lon: lon + east / (111_195 * Math.cos((lat * Math.PI) / 180)) };
}

export const HERE = { lat: 22.6905, lon: 114.3502 };

export function report(p: Partial<DedupeReport> & { id: string }): DedupeReport {
  return { receivedAt: T0, text: '和平路12号门口自来水管爆裂，水喷得很高，路面全是水', category: 'GY-01', ...p };
}

export const withConfig = (patch: unknown) => parseDedupeConfig({ ...structuredClone(config), ...(patch as object) });
