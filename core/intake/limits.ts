/**
 * Per-citizen intake limits (防刷): at most N new reports per citizen (phone, openid or email) per hour and per day,
 * so one number cannot flood the departments. Pure decision + one small async guard over a read port; the
 * caller wires it (see `enforceCitizenLimit`). Per-client limits (per address / API key) are the gateway's
 * (API Gateway stage throttling on AWS, `local/ratelimit.ts` locally).
 *
 * What is never refused:
 * - the same submission again (same channel + message id: a retry, a double click, a WeChat re-push): it gets its
 *   tracking number back, whatever the count;
 * - anonymous reports and reports without a contact (nothing to count by; the per-client limit applies);
 * - channels whose policy is `false` (by default the hotline: an agent is on the phone with the caller, and 12345
 *   answers every call).
 * The count is read from the citizen index (GSI2, eventually consistent), so a burst of concurrent submissions may
 * pass a few over the limit: a soft limit, on purpose (a hard one would need a counter write on every report).
 */
import { CityLoopError } from '../errors.ts';
import type { ReportCursor, StoredReport } from '../ports.ts';
import { citizenKey } from '../privacy.ts';
import { idemKeyOf } from './accept.ts';
import type { Channel, IntakeRequest } from './schema.ts';

export interface Window {
  perHour: number;
  perDay: number;
}

export interface CitizenLimits extends Window {
  /** Per-channel override; `false` exempts the channel. */
  channels?: Partial<Record<Channel, Window | false>>;
}

export const DEFAULT_CITIZEN_LIMITS: CitizenLimits = { perHour: 10, perDay: 30, channels: { hotline: false } };

export type LimitDecision =
  | { ok: true; hour: number; day: number }
  | { ok: false; window: 'hour' | 'day'; limit: number; count: number; retryAfterSec: number };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The window that applies to a channel, or undefined when the channel is exempt. */
export function windowFor(channel: Channel, limits: CitizenLimits = DEFAULT_CITIZEN_LIMITS): Window | undefined {
  const own = limits.channels?.[channel];
  if (own === false) return undefined;
  return own ?? { perHour: limits.perHour, perDay: limits.perDay };
}

/**
 * Decides from the acceptance instants of the citizen's earlier reports (any order; ISO 8601 with an offset).
 * Refused: `retryAfterSec` is when the oldest report in the full window leaves it.
 */
export function decideCitizenLimit(acceptedAt: readonly string[], now: Date, window: Window): LimitDecision {
  const t = now.getTime();
  const times = acceptedAt
    .map((s) => Date.parse(s))
    .filter((x) => Number.isFinite(x) && x <= t)
    .sort((a, b) => b - a);
  const inHour = times.filter((x) => t - x < HOUR);
  const inDay = times.filter((x) => t - x < DAY);
  if (inHour.length >= window.perHour) {
    const oldest = inHour[window.perHour - 1]!;
    return {
      ok: false,
      window: 'hour',
      limit: window.perHour,
      count: inHour.length,
      retryAfterSec: wait(oldest + HOUR - t),
    };
  }
  if (inDay.length >= window.perDay) {
    const oldest = inDay[window.perDay - 1]!;
    return {
      ok: false,
      window: 'day',
      limit: window.perDay,
      count: inDay.length,
      retryAfterSec: wait(oldest + DAY - t),
    };
  }
  return { ok: true, hour: inHour.length, day: inDay.length };
}

const wait = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** What the guard reads: the store's citizen index and the idempotency lookup (DynamoStore has both). */
export interface CitizenHistory {
  getReportByIdemKey(idemKey: string): Promise<StoredReport | undefined>;
  /** The citizen's reports, newest first (GSI2 `CIT#<citizenKey>`), after `after` when given. */
  listReportsOfCitizen(key: string, limit?: number, after?: ReportCursor): Promise<StoredReport[]>;
}

/**
 * Throws `CityLoopError('CITIZEN_RATE_LIMITED', …, 429)` (details: window, limit, retryAfterSec) when this new
 * submission would exceed the citizen's limit. Call it right before `acceptReport`:
 * `await enforceCitizenLimit(rt.store, request, rt.clock.now());`
 */
export async function enforceCitizenLimit(
  store: CitizenHistory,
  request: IntakeRequest,
  now: Date,
  limits: CitizenLimits = DEFAULT_CITIZEN_LIMITS,
): Promise<void> {
  const window = windowFor(request.channel, limits);
  if (!window || request.citizen.anonymous) return;
  const key = citizenKey(request.citizen);
  if (!key) return;
  if (await store.getReportByIdemKey(idemKeyOf(request))) return;
  const recent = await store.listReportsOfCitizen(key, Math.max(window.perHour, window.perDay) + 1);
  const d = decideCitizenLimit(
    recent.map((r) => r.acceptedAt),
    now,
    window,
  );
  if (d.ok) return;
  const span = d.window === 'hour' ? '每小时' : '每天';
  throw new CityLoopError(
    'CITIZEN_RATE_LIMITED',
    `同一联系方式${span}最多提交 ${d.limit} 件诉求，请 ${Math.ceil(d.retryAfterSec / 60)} 分钟后再试；紧急情况请拨打 12345 ` +
      `too many reports from this contact (${d.limit} per ${d.window})`,
    429,
    { window: d.window, limit: d.limit, retryAfterSec: d.retryAfterSec },
  );
}
