/**
 * The shipped calendar: the official snapshot plus this city's overrides, both bundled as JSON (no file I/O at run
 * time, nothing of `chinese-days` in a Lambda bundle). A city edits `config/calendar/overrides.json`; a new year's
 * official arrangement arrives with `npx cityloop sla snapshot` (or, before the package has it, `supplement`).
 */
import officialFile from '../../config/calendar/official-cn.json' with { type: 'json' };
import overridesFile from '../../config/calendar/overrides.json' with { type: 'json' };
import type { CalendarOverrides, OfficialCalendar } from './data.ts';
import { WorkingCalendar } from './working-calendar.ts';

let cached: WorkingCalendar | undefined;

/**
 * The calendar built from `config/calendar/*.json`, built once per process (container). The files are validated by
 * `npx cdk synth` and the unit tests (infra/config-check.ts), not on every cold start.
 */
export function defaultCalendar(): WorkingCalendar {
  cached ??= WorkingCalendar.trusted(officialFile as OfficialCalendar, overridesFile as CalendarOverrides);
  return cached;
}
