/**
 * `CaseStore.markSettled` / `markAnnounced` for the in-memory case stores of the unit tests, with the store's rules:
 * nothing unless the case is still at `version`; the announcement mark never moves backwards; `counted` drops what
 * the case owed the daily aggregates.
 */
import type { Case } from '#core/case.ts';
import type { Settled } from '#core/ports.ts';

export function settleInMemory(c: Case | undefined, version: number, settled: Settled): void {
  if (!c || c.version !== version) return;
  if (settled.announced && c.announcedVersion < version) c.announcedVersion = version;
  if (settled.counted) delete c.metricsOwed;
}
