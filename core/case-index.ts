/**
 * Index keys a case item carries besides its own key, derived from the case (so every writer computes them the same).
 * `reqday`: `REQDAY#<yyyymmdd of receipt, Shanghai>` / `<updatedAt +08:00>#<caseId>`, to list cases by request day,
 * newest change first (Open311 GET requests and servicerequestupdates).
 */
import type { Case } from './case.ts';
import { shanghaiDay, toShanghaiIso } from './ids.ts';

/** The `reqday` index attributes; empty when a date is unreadable (such an item is simply not listed). */
export function requestDayKeys(c: Pick<Case, 'caseId' | 'receivedAt' | 'updatedAt'>): {
  reqDayPk?: string;
  reqDaySk?: string;
} {
  const received = Date.parse(c.receivedAt);
  const updated = Date.parse(c.updatedAt);
  if (!Number.isFinite(received) || !Number.isFinite(updated)) return {};
  return {
    reqDayPk: `REQDAY#${shanghaiDay(new Date(received))}`,
    reqDaySk: `${toShanghaiIso(new Date(updated))}#${c.caseId}`,
  };
}
