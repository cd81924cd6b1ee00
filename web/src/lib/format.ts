/** Times as people in the city read them (Asia/Shanghai, whatever the device's zone), counts down and rates. */
import { lang, tr } from './i18n.ts';

const ZONE = 'Asia/Shanghai';
const formats = new Map<string, Intl.DateTimeFormat>();

function fmt(withYear: boolean): Intl.DateTimeFormat {
  const key = `${lang()}:${withYear}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', {
      timeZone: ZONE,
      ...(withYear ? { year: 'numeric' } : {}),
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    formats.set(key, f);
  }
  return f;
}

/** `2025/11/28 14:05` (or without the year for this year's dates). */
export function dateTime(iso: string | null | undefined, withYear = true): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return fmt(withYear).format(d);
}

/** Today in Shanghai as YYYY-MM-DD. */
export function shanghaiToday(now = Date.now()): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export type DueLevel = 'none' | 'ok' | 'warn' | 'late';

/** How urgent a deadline is: late once past, warn within `warnMs` (default one day). */
export function dueLevel(dueAt: string | null | undefined, now: number, warnMs = 86_400_000): DueLevel {
  if (!dueAt) return 'none';
  const left = Date.parse(dueAt) - now;
  if (Number.isNaN(left)) return 'none';
  if (left < 0) return 'late';
  return left <= warnMs ? 'warn' : 'ok';
}

function span(ms: number): string {
  const m = Math.floor(ms / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  if (d > 0) return tr(`${d}天${h}小时`, `${d}d ${h}h`);
  if (h > 0) return tr(`${h}小时${min}分`, `${h}h ${min}m`);
  return tr(`${min}分钟`, `${min} min`);
}

/** 剩余 2天3小时 / 超期 5小时: words, not only a colour. */
export function countdown(dueAt: string | null | undefined, now: number): string {
  if (!dueAt) return tr('无时限', 'no deadline');
  const left = Date.parse(dueAt) - now;
  if (Number.isNaN(left)) return '-';
  return left >= 0
    ? tr(`剩余 ${span(left)}`, `${span(left)} left`)
    : tr(`超期 ${span(-left)}`, `${span(-left)} overdue`);
}

/** 0.9616 → 96.2%; null (nothing to judge yet) → –. */
export function pct(r: number | null | undefined, digits = 1): string {
  return r === null || r === undefined ? '–' : `${(r * 100).toFixed(digits)}%`;
}

export function days(r: number | null | undefined): string {
  return r === null || r === undefined ? '–' : tr(`${r.toFixed(1)} 天`, `${r.toFixed(1)} d`);
}
