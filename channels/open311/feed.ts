/**
 * Listing cases by date for GET requests and servicerequestupdates, over one sparse GSI on case items:
 *
 *   reqDayPk = `REQDAY#<yyyymmdd>`  the Asia/Shanghai day the case was requested (`receivedAt`)
 *   reqDaySk = `<updatedAt as +08:00 ISO>#<caseId>`
 *
 * - GET requests (a window of ≤ 90 days on requested_datetime): one Query per requested day, newest day first,
 *   stopping as soon as the page is full.
 * - servicerequestupdates (a window on updated time; FixMyStreet polls the last hour): one Query per requested day
 *   of the look-back period with `reqDaySk >= <window start>`, so only cases changed since then are read; an empty
 *   day costs one minimal read. Cases requested before the look-back (config `updatesLookbackDays`) are not seen.
 *
 * The key attributes must be written with every case item (`requestDayKeys`), by the store's `caseItem()`.
 */
import type { Case } from '#core/case.ts';
import { shanghaiDay, toShanghaiIso } from '#core/ids.ts';
import type { Open311Config } from './config.ts';
import { DAY_MS } from './datetime.ts';
import type { RequestsQuery } from './query.ts';
import { openClosed, type RequestUpdate, updatesOf } from './view.ts';

export const REQUEST_DAY_INDEX = { name: 'reqday', pk: 'reqDayPk', sk: 'reqDaySk' } as const;

export { requestDayKeys } from '#core/case-index.ts';

/** The sort-key bound for "changed at or after this instant". */
export const changedSinceKey = (ms: number): string => toShanghaiIso(new Date(ms));

export interface CaseFeed {
  /** Every case requested on this Shanghai day (`yyyymmdd`). */
  requestedOn(day: string): Promise<Case[]>;
  /** Cases requested on this day whose index sort key is ≥ `sinceKey` (changed at or after that instant). */
  changedSince(day: string, sinceKey: string): Promise<Case[]>;
}

/** Shanghai days from `toMs` back to `fromMs`, newest first. */
export function daysDescending(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  const last = shanghaiDay(new Date(fromMs));
  for (let t = toMs; days.length < 10_000; t -= DAY_MS) {
    const d = shanghaiDay(new Date(t));
    if (days.at(-1) !== d) days.push(d);
    if (d <= last) break;
  }
  if (days.at(-1) !== last && days.length < 10_000) days.push(last);
  return days;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

const byRequestedDesc = (a: Case, b: Case): number => {
  const d = Date.parse(b.receivedAt) - Date.parse(a.receivedAt);
  return d !== 0 ? d : a.caseId < b.caseId ? 1 : a.caseId > b.caseId ? -1 : 0;
};

/**
 * The page of cases matching a GET requests query, newest requested first (a stable order: paging does not shift
 * when cases change). Days are fetched a few at a time, in order, until the page is full.
 */
export async function listRequests(feed: CaseFeed, q: RequestsQuery, prefetch = 4): Promise<Case[]> {
  const wanted = q.page * q.pageSize;
  const days = daysDescending(q.fromMs, q.toMs);
  const matched: Case[] = [];
  for (let i = 0; i < days.length && matched.length < wanted; i += prefetch) {
    const batch = await mapLimit(days.slice(i, i + prefetch), prefetch, (d) => feed.requestedOn(d));
    for (const cases of batch) {
      const keep = cases.filter((c) => {
        const t = Date.parse(c.receivedAt);
        if (!(t >= q.fromMs && t <= q.toMs)) return false;
        if (q.statuses && !q.statuses.has(openClosed(c.state))) return false;
        return !q.serviceCodes || (c.category !== undefined && q.serviceCodes.has(c.category));
      });
      matched.push(...keep.sort(byRequestedDesc));
      if (matched.length >= wanted) break;
    }
  }
  return matched.slice((q.page - 1) * q.pageSize, wanted);
}

export interface UpdatesQuery {
  fromMs: number;
  toMs: number;
  page: number;
  pageSize: number;
}

/** Updates in the window, oldest first (the order a client applies them in), paged. */
export async function collectUpdates(
  feed: CaseFeed,
  q: UpdatesQuery,
  opts: { lookbackDays: number; scope: Open311Config['publish']['updatesScope']; concurrency?: number },
): Promise<RequestUpdate[]> {
  const days = daysDescending(q.fromMs - opts.lookbackDays * DAY_MS, q.toMs);
  const since = changedSinceKey(q.fromMs);
  const perDay = await mapLimit(days, opts.concurrency ?? 8, (d) => feed.changedSince(d, since));
  const seen = new Set<string>();
  const updates: RequestUpdate[] = [];
  for (const c of perDay.flat()) {
    if (seen.has(c.caseId)) continue;
    seen.add(c.caseId);
    updates.push(...updatesOf(c, q, opts.scope));
  }
  updates.sort((a, b) =>
    a.updated_datetime < b.updated_datetime
      ? -1
      : a.updated_datetime > b.updated_datetime
        ? 1
        : a.update_id < b.update_id
          ? -1
          : 1,
  );
  return updates.slice((q.page - 1) * q.pageSize, q.page * q.pageSize);
}
