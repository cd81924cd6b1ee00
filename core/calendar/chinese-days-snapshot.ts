/**
 * Turns the data `chinese-days` ships (`chinese-days/dist/chinese-days.json`) into our `OfficialCalendar` snapshot
 * (`config/calendar/official-cn.json`, written by `npx cityloop sla snapshot`).
 *
 * Why a snapshot instead of calling the library at run time: the library has no notion of a covered range (it answers
 * Mon–Fri for years it does not know), it builds its tables on import, and its own date parsing follows the host's
 * time zone. The snapshot states the covered years explicitly, loads as plain JSON, and an update shows up in review
 * as a data diff. A unit test keeps the snapshot equal to the installed library.
 */
import type { OfficialCalendar } from './data.ts';
import { isIsoDate } from './shanghai-time.ts';

/** Shape of `chinese-days/dist/chinese-days.json`: date → "English name,中文名,days". */
export interface ChineseDaysData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

function chineseName(value: string): string {
  const parts = value.split(',');
  return (parts[1] ?? parts[0] ?? value).trim();
}

export function snapshotFromChineseDays(data: ChineseDaysData, version: string): OfficialCalendar {
  const years = new Set<number>();
  const pick = (m: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const date of Object.keys(m).sort()) {
      if (!isIsoDate(date)) throw new RangeError(`chinese-days: not a date: ${date}`);
      out[date] = chineseName(m[date]!);
      years.add(Number(date.slice(0, 4)));
    }
    return out;
  };
  const holidays = pick(data.holidays);
  const workdays = pick(data.workdays);
  if (years.size === 0) throw new RangeError('chinese-days: no data');
  const first = Math.min(...years);
  const last = Math.max(...years);
  // Every year inside the range must have its arrangement, or the range would claim knowledge it does not have.
  for (let y = first; y <= last; y++) {
    if (!Object.keys(holidays).some((d) => d.startsWith(`${y}-`))) {
      throw new RangeError(`chinese-days: no holidays for ${y}: the covered range would have a hole`);
    }
  }
  return {
    source: 'State Council holiday notices (国务院办公厅关于部分节假日安排的通知), via the chinese-days package',
    version,
    coveredFrom: `${first}-01-01`,
    coveredUntil: `${last}-12-31`,
    holidays,
    workdays,
  };
}
