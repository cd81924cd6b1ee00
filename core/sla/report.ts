/**
 * 考核报表: the rates of a period from the daily aggregates, grouped by one dimension, with the gap to the year's
 * targets (年度目标), rendered as a table (people), CSV (spreadsheets) or JSON (the task line of 一网统管). Pure.
 */
import { isIsoDate } from '../calendar/shanghai-time.ts';
import {
  type AggregateRecord,
  COUNTER_NAMES,
  type Counters,
  computeRates,
  formatRate,
  gapToTarget,
  RATE_LABELS,
  RATE_NAMES,
  type RateName,
  type Rates,
  type SummaryRow,
  sumCounters,
  summarize,
  type Target,
  type TargetGap,
  targetFor,
} from './metrics.ts';

export const REPORT_GROUPINGS = ['department', 'category', 'street', 'channel', 'day'] as const;
export type ReportGrouping = (typeof REPORT_GROUPINGS)[number];
export const REPORT_FORMATS = ['table', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportQuery {
  from: string;
  to: string;
  by?: ReportGrouping | undefined;
}

export interface ReportRow {
  group: string;
  /** Human name of the group (department name, category name …). */
  name: string;
  counters: Counters;
  rates: Rates;
  /** Gap to the target (department rows: the department's own targets over the city's). */
  gaps?: TargetGap[];
}

export interface Report {
  from: string;
  to: string;
  by: ReportGrouping | null;
  /** Year whose targets apply (the year of `from`). */
  targetYear: number;
  rows: ReportRow[];
  total: ReportRow;
  /** Aggregate items read. */
  items: number;
}

export interface ReportNames {
  department?: (id: string) => string | undefined;
  category?: (code: string) => string | undefined;
  street?: (id: string) => string | undefined;
  channel?: (id: string) => string | undefined;
}

/** Checks `--from`/`--to`; a message for the user, or null when fine. */
export function checkPeriod(from: string | undefined, to: string | undefined): string | null {
  if (!from || !isIsoDate(from)) return '--from needs a date YYYY-MM-DD';
  if (!to || !isIsoDate(to)) return '--to needs a date YYYY-MM-DD';
  if (to < from) return '--to is before --from';
  return null;
}

export function buildReport(
  records: readonly AggregateRecord[],
  q: ReportQuery,
  targets: readonly Target[],
  names: ReportNames = {},
): Report {
  const year = Number(q.from.slice(0, 4));
  const inPeriod = records.filter((r) => r.day >= q.from && r.day <= q.to);
  const grouped: SummaryRow[] = q.by ? summarize(inPeriod, { from: q.from, to: q.to, by: q.by }) : [];
  const nameOf = (g: string): string => {
    if (g === '-') return '(未指定)';
    const by = q.by;
    const f = by === 'department' || by === 'category' || by === 'street' || by === 'channel' ? names[by] : undefined;
    return f?.(g) ?? g;
  };
  const cityTarget = targetFor(targets, year);
  const rows: ReportRow[] = grouped.map((r) => {
    const row: ReportRow = { group: r.group, name: nameOf(r.group), counters: r.counters, rates: r.rates };
    if (q.by === 'department') row.gaps = gapToTarget(r.rates, targetFor(targets, year, r.group));
    return row;
  });
  const counters = sumCounters(inPeriod);
  const rates = computeRates(counters);
  return {
    from: q.from,
    to: q.to,
    by: q.by ?? null,
    targetYear: year,
    rows,
    total: { group: '*', name: '合计', counters, rates, gaps: gapToTarget(rates, cityTarget) },
    items: inPeriod.length,
  };
}

const DAYS_RATES: ReadonlySet<RateName> = new Set(['avgHandlingDays', 'avgHandlingWorkingDays']);

function showRate(name: RateName, v: number | null): string {
  if (DAYS_RATES.has(name)) return v === null ? '-' : v.toFixed(2);
  return formatRate(v);
}

function showGap(g: TargetGap): string {
  if (g.gap === null) return '-';
  if (DAYS_RATES.has(g.metric)) return `${g.gap >= 0 ? '+' : ''}${g.gap.toFixed(2)} 天`;
  return `${g.gap >= 0 ? '+' : ''}${(g.gap * 100).toFixed(2)} 个百分点`;
}

/** Terminal width of a string: CJK and full-width forms take two columns. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    w +=
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6)
        ? 2
        : 1;
  }
  return w;
}

function pad(s: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** A plain-text table; the first column (names) is left-aligned, figures right-aligned unless `left` lists them. */
function table(header: string[], body: string[][], left: readonly number[] = [0]): string {
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...body.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0, !left.includes(i)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const TABLE_RATES: readonly RateName[] = RATE_NAMES;

const GROUP_LABELS: Record<ReportGrouping, string> = {
  department: '承办单位',
  category: '事项类别',
  street: '属地街道',
  channel: '渠道',
  day: '日期',
};

function rateCells(r: ReportRow): string[] {
  return [
    String(r.counters.received),
    String(r.counters.dueToClose),
    String(r.counters.dueClosed),
    ...TABLE_RATES.map((n) => showRate(n, r.rates[n])),
  ];
}

export function renderTable(report: Report): string {
  const title = `考核报表 ${report.from} 至 ${report.to}${report.by ? ` · 按${GROUP_LABELS[report.by]}` : ''}`;
  const header = [
    report.by ? GROUP_LABELS[report.by] : '范围',
    '受理',
    '应办结',
    '已办结',
    ...TABLE_RATES.map((n) => RATE_LABELS[n]),
  ];
  const body = [...report.rows.map((r) => [r.name, ...rateCells(r)]), [report.total.name, ...rateCells(report.total)]];
  const out = [title, '', table(header, body)];
  const gaps = report.total.gaps ?? [];
  if (gaps.length > 0) {
    out.push(
      '',
      `年度目标 ${report.targetYear} (全市)`,
      table(
        ['指标', '目标', '实际', '差距', '达标'],
        gaps.map((g) => [
          g.label,
          showRate(g.metric, g.target),
          showRate(g.metric, g.actual),
          showGap(g),
          g.met === null ? '-' : g.met ? '是' : '否',
        ]),
      ),
    );
  } else {
    out.push('', `年度目标 ${report.targetYear}: 未设定`);
  }
  const depts = report.rows.filter((r) => r.gaps && r.gaps.length > 0);
  if (depts.length > 0) {
    out.push(
      '',
      `各单位对标 ${report.targetYear}`,
      table(
        ['承办单位', '达标', '未达标指标'],
        depts.map((r) => {
          const judged = (r.gaps ?? []).filter((g) => g.met !== null);
          const missed = judged.filter((g) => g.met === false);
          return [
            r.name,
            `${judged.length - missed.length}/${judged.length}`,
            missed.map((g) => `${g.label} ${showGap(g)}`).join('; ') || '-',
          ];
        }),
        [0, 2],
      ),
    );
  }
  out.push('', `数据: ${report.items} 个日汇总项 (按日读取，不读工单)`);
  return out.join('\n');
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function renderCsv(report: Report): string {
  const header = ['group', 'name', ...COUNTER_NAMES, ...RATE_NAMES];
  const line = (r: ReportRow) =>
    [r.group, r.name, ...COUNTER_NAMES.map((n) => r.counters[n]), ...RATE_NAMES.map((n) => r.rates[n])]
      .map((v) => csvCell(typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v))
      .join(',');
  return [header.join(','), ...report.rows.map(line), line(report.total)].join('\n');
}

export function renderJson(report: Report): string {
  return JSON.stringify(report, null, 2);
}

export function renderReport(report: Report, format: ReportFormat): string {
  return format === 'csv' ? renderCsv(report) : format === 'json' ? renderJson(report) : renderTable(report);
}
