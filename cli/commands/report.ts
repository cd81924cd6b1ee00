/**
 * `cityloop report --from D --to D [--by department|category|street|channel|day] [--format table|csv|json] [--aws]`
 * 考核报表: the rates (办结率, 按时办结率, 当日清率, 签收及时率, 解决率, 满意率 …) of a period from the daily aggregates,
 * and the gap to the year's targets. Reads one partition per day, never the cases. Against the running local stack
 * by default; `--aws` (or no local stack and TABLE_NAME set) reads the AWS table with the usual credentials.
 */
import { dynamoClient } from '#adapters/dynamo/client.ts';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import { shippedTargets } from '#core/sla/metrics.ts';
import {
  buildReport,
  checkPeriod,
  REPORT_FORMATS,
  REPORT_GROUPINGS,
  type ReportFormat,
  type ReportGrouping,
  renderReport,
} from '#core/sla/report.ts';
import { defaultTaxonomy, departmentName } from '#core/taxonomy/defaults.ts';
import { str, UsageError } from '../lib/args.ts';
import { failure, flagsOnly } from '../lib/command.ts';
import { connectTable } from '../lib/stack.ts';

export const summary = '考核报表 rates and targets: report --from D --to D [--by department|category|street|channel]';

export const USAGE = `用法 usage:
  cityloop report --from YYYY-MM-DD --to YYYY-MM-DD [--by ${REPORT_GROUPINGS.join('|')}] [--format ${REPORT_FORMATS.join('|')}] [--aws] [--table NAME]
  默认读取本地运行的系统 (npm start); --aws 读取 AWS 上的表 (TABLE_NAME 或 --table)`;

const CHANNEL_LABELS: Record<string, string> = {
  hotline: '12345热线',
  web: '网站',
  wechat: '微信',
  email: '电子邮件',
  open311: 'Open311',
};

export async function run(args: string[]): Promise<number> {
  try {
    const p = flagsOnly(args, { values: ['from', 'to', 'by', 'format', 'table'], booleans: ['aws'] }, USAGE);
    if (!p) return 0;
    const from = str(p, 'from');
    const to = str(p, 'to');
    const bad = checkPeriod(from, to);
    if (bad) throw new UsageError(bad);
    const by = str(p, 'by');
    if (by !== undefined && !(REPORT_GROUPINGS as readonly string[]).includes(by)) {
      throw new UsageError(`--by must be one of ${REPORT_GROUPINGS.join(', ')}`);
    }
    const format = str(p, 'format') ?? 'table';
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
    }
    const table = connectTable(p.flags.aws === true, str(p, 'table'));
    // The client is built now, so it reads the endpoint set above.
    const store = new DynamoStore(dynamoClient(), table);
    const records = await store.listAggregates(from as string, to as string);
    const categories = new Map(defaultTaxonomy.categories.map((c) => [c.code, c.name]));
    const report = buildReport(
      records,
      { from: from as string, to: to as string, by: by as ReportGrouping },
      shippedTargets(),
      {
        department: departmentName,
        street: departmentName,
        category: (code) => categories.get(code),
        channel: (id) => CHANNEL_LABELS[id],
      },
    );
    process.stdout.write(`${renderReport(report, format as ReportFormat)}\n`);
    return 0;
  } catch (e) {
    return failure(e, USAGE, '报表失败 report failed');
  }
}
