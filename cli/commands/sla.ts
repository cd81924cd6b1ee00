/**
 * `cityloop sla …`: deadlines on the working calendar from the command line.
 *   sla due --received <ISO with zone> (--working-days N | --hours N | --working-hours N) [--json]
 *   sla deadlines --received <ISO> [--dispatched <ISO>] [--nature 投诉] [--urgency normal] [--policy standard] [--json]
 *   sla calendar --year Y [--json]
 *   sla policy [--nature 投诉] [--urgency normal] [--policy standard]
 *   sla snapshot [--check]     (re)writes config/calendar/official-cn.json from the installed chinese-days
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { snapshotFromChineseDays } from '../../core/calendar/chinese-days-snapshot.ts';
import { defaultCalendar } from '../../core/calendar/default.ts';
import { formatShanghai, isInstant, parseInstant } from '../../core/calendar/shanghai-time.ts';
import { isCityLoopError } from '../../core/errors.ts';
import { NATURES, type Nature } from '../../core/intake/schema.ts';
import { addDuration, computeDeadlines } from '../../core/sla/deadlines.ts';
import { type Duration, resolvePolicy, URGENCIES, type Urgency } from '../../core/sla/policy.ts';

export const summary =
  '时限计算: due instants on the working calendar, holiday listings, policies (sla due|deadlines|calendar|policy|snapshot)';

export const USAGE = `用法 usage:
  cityloop sla due --received <ISO with zone> (--working-days N | --hours N | --working-hours N) [--json]
  cityloop sla deadlines --received <ISO> [--dispatched <ISO>] [--nature 投诉] [--urgency normal] [--policy standard] [--json]
  cityloop sla calendar --year <YYYY> [--json]
  cityloop sla policy [--nature 投诉] [--urgency normal] [--policy standard]
  cityloop sla snapshot [--check]
`;

const SNAPSHOT_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../config/calendar/official-cn.json');

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function usageError(message: string): number {
  err(`${message}\n\n${USAGE}`);
  return 2;
}

function positiveNumber(v: string | undefined, name: string, integer: boolean): number | string {
  if (v === undefined) return `missing ${name}`;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    return `${name} must be a positive ${integer ? 'integer' : 'number'}: ${v}`;
  }
  return n;
}

function due(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      received: { type: 'string' },
      'working-days': { type: 'string' },
      hours: { type: 'string' },
      'working-hours': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.received || !isInstant(values.received)) {
    return usageError('--received needs an ISO 8601 instant with a zone, e.g. 2025-09-30T10:00+08:00');
  }
  const given = (['working-days', 'hours', 'working-hours'] as const).filter((k) => values[k] !== undefined);
  if (given.length !== 1) return usageError('give exactly one of --working-days, --hours, --working-hours');
  const which = given[0]!;
  const n = positiveNumber(values[which], `--${which}`, which === 'working-days');
  if (typeof n === 'string') return usageError(n);
  const duration: Duration =
    which === 'working-days' ? { workingDays: n } : which === 'hours' ? { hours: n } : { workingHours: n };
  const cal = defaultCalendar();
  const r = addDuration(cal, parseInstant(values.received), duration);
  const iso = formatShanghai(r.ms);
  if (values.json) {
    out(
      JSON.stringify({
        received: values.received,
        ...duration,
        due: iso,
        provisional: r.provisional,
        calendar: cal.version,
      }),
    );
  } else {
    out(iso);
  }
  if (r.provisional) {
    err(`注意 provisional: counted over dates after ${cal.coveredUntil} (calendar not yet published) as Mon–Fri`);
  }
  return 0;
}

function policyQuery(values: {
  nature?: string | undefined;
  urgency?: string | undefined;
  policy?: string | undefined;
}) {
  const nature = (values.nature ?? '投诉') as Nature;
  const urgency = (values.urgency ?? 'normal') as Urgency;
  if (!NATURES.includes(nature)) return `--nature must be one of ${NATURES.join(' ')}`;
  if (!URGENCIES.includes(urgency)) return `--urgency must be one of ${URGENCIES.join(' ')}`;
  return resolvePolicy({ nature, urgency, policyId: values.policy });
}

function deadlines(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      received: { type: 'string' },
      dispatched: { type: 'string' },
      nature: { type: 'string' },
      urgency: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.received || !isInstant(values.received))
    return usageError('--received needs an ISO 8601 instant with a zone');
  if (values.dispatched !== undefined && !isInstant(values.dispatched))
    return usageError('--dispatched needs an ISO instant');
  const policy = policyQuery(values);
  if (typeof policy === 'string') return usageError(policy);
  const r = computeDeadlines(policy, values.received, defaultCalendar(), { dispatchedAt: values.dispatched });
  if (values.json) {
    out(JSON.stringify(r, null, 2));
    return 0;
  }
  out(`时限策略 policy   ${r.policyId}  (rules: ${policy.rules.join(', ')})`);
  out(`受理 received     ${r.receivedAt}`);
  out(`派单 dispatch due ${r.dispatchDue}`);
  out(`签收 sign due     ${r.signDue}`);
  out(`先行联系 contact  ${r.contactDue}`);
  out(`退单 return by    ${r.returnDue}`);
  out(`办结 resolve due  ${r.resolveDue}`);
  out(`延期最多至        ${r.extensionLatest}`);
  if (r.provisional) out('注意 provisional: some deadline crosses dates the calendar does not cover yet');
  return 0;
}

const KIND_LABELS: Record<string, string> = {
  holiday: '放假',
  makeup: '调休上班',
  'local-holiday': '本地停休',
  'local-workday': '本地上班',
  workday: '工作日',
  weekend: '周末',
  unknown: '未知',
};

function calendar(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { year: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const year = Number(values.year);
  if (!values.year || !Number.isInteger(year) || year < 1900 || year > 2200)
    return usageError('--year YYYY is required');
  const cal = defaultCalendar();
  const days = cal.namedDays(`${year}-01-01`, `${year}-12-31`);
  const covered = cal.isCovered(`${year}-12-31`);
  if (values.json) {
    out(JSON.stringify({ year, covered, coveredUntil: cal.coveredUntil, version: cal.version, days }, null, 2));
    return 0;
  }
  out(`${year} 年工作日历 (${cal.version})${covered ? '' : `  未覆盖: calendar covers until ${cal.coveredUntil}`}`);
  const wk = ['日', '一', '二', '三', '四', '五', '六'];
  for (const d of days) {
    const w = wk[new Date(`${d.date}T00:00:00Z`).getUTCDay()];
    out(
      `${d.date} 周${w}  ${(KIND_LABELS[d.kind] ?? d.kind).padEnd(4, '　')}  ${d.name ?? ''}${d.reason ? `  (${d.reason})` : ''}`,
    );
  }
  if (!covered) err(`注意: dates of ${year} after ${cal.coveredUntil} are unknown (not yet published)`);
  return 0;
}

function policy(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { nature: { type: 'string' }, urgency: { type: 'string' }, policy: { type: 'string' } },
    strict: true,
  });
  const p = policyQuery(values);
  if (typeof p === 'string') return usageError(p);
  out(JSON.stringify(p, null, 2));
  return 0;
}

async function snapshot(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { check: { type: 'boolean', default: false } }, strict: true });
  const data = (await import('chinese-days/dist/chinese-days.json', { with: { type: 'json' } })).default;
  const pkg = (await import('chinese-days/package.json', { with: { type: 'json' } })).default as { version: string };
  const text = `${JSON.stringify(snapshotFromChineseDays(data, `chinese-days@${pkg.version}`), null, 2)}\n`;
  if (values.check) {
    const current = readFileSync(SNAPSHOT_PATH, 'utf8');
    if (JSON.stringify(JSON.parse(current)) !== JSON.stringify(JSON.parse(text))) {
      err(`${SNAPSHOT_PATH} differs from chinese-days@${pkg.version}: run \`npx cityloop sla snapshot\``);
      return 1;
    }
    out(`snapshot up to date (chinese-days@${pkg.version})`);
    return 0;
  }
  writeFileSync(SNAPSHOT_PATH, text);
  out(`wrote ${SNAPSHOT_PATH} (chinese-days@${pkg.version})`);
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'due':
        return due(rest);
      case 'deadlines':
        return deadlines(rest);
      case 'calendar':
        return calendar(rest);
      case 'policy':
        return policy(rest);
      case 'snapshot':
        return await snapshot(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        out(USAGE);
        return sub === undefined ? 2 : 0;
      default:
        return usageError(`unknown subcommand: ${sub}`);
    }
  } catch (e) {
    if (isCityLoopError(e)) {
      err(`${e.code}: ${e.message}`);
      return 2;
    }
    if (e instanceof RangeError || (e instanceof TypeError && 'code' in e)) {
      return usageError(e.message);
    }
    throw e;
  }
}
