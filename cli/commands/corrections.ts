/**
 * `cityloop corrections --from D --to D [--out file.csv] [--only-corrected] [--aws] [--table NAME]`
 * 纠错样本导出: the supervisors' category decisions of a period (人工分拨, 改派/退单通过 with a new category) as a
 * `text,label,…` CSV for the next `cityloop train` (contacts masked). Against the running local stack by default;
 * `--aws` (or no local stack and TABLE_NAME set) reads the AWS table with the usual credentials.
 *
 *   cityloop corrections --from 2026-11-01 --to 2026-11-30 --out corrections.csv
 *   cityloop train --data ../shared/data/classify/train.csv --data corrections.csv --out model.json
 */
import { writeFileSync } from 'node:fs';
import { dynamoClient } from '#adapters/dynamo/client.ts';
import { DynamoTrainingExamples } from '#adapters/dynamo/training-examples.ts';
import { isIsoDate } from '#core/calendar/shanghai-time.ts';
import { examplesCsv } from '#core/cases/corrections.ts';
import { str, UsageError } from '../lib/args.ts';
import { failure, flagsOnly } from '../lib/command.ts';
import { connectTable } from '../lib/stack.ts';

export const summary =
  '纠错样本 export supervisors’ category corrections as training rows: corrections --from D --to D';

export const USAGE = `用法 usage:
  cityloop corrections --from YYYY-MM-DD --to YYYY-MM-DD [--out file.csv] [--only-corrected] [--aws] [--table NAME]
  导出人工分拨/改派时确定的事项类别，作为下一次训练的样本 (text,label,category,…；联系方式已脱敏)
  --only-corrected  只导出模型判断错误的样本 (不含人工确认模型建议的样本)
  默认读取本地运行的系统 (npm start); --aws 读取 AWS 上的表 (TABLE_NAME 或 --table)`;

export async function run(args: string[]): Promise<number> {
  try {
    const p = flagsOnly(args, { values: ['from', 'to', 'out', 'table'], booleans: ['aws', 'only-corrected'] }, USAGE);
    if (!p) return 0;
    const from = str(p, 'from');
    const to = str(p, 'to');
    if (!from || !to || !isIsoDate(from) || !isIsoDate(to)) {
      throw new UsageError('--from 和 --to 必须是日期 YYYY-MM-DD (both --from and --to are required dates)');
    }
    if (to < from) throw new UsageError('--to 早于 --from (--to is before --from)');
    const table = connectTable(p.flags.aws === true, str(p, 'table'));
    const store = new DynamoTrainingExamples(dynamoClient(), table);
    const all = await store.listExamples(from, to);
    const rows = p.flags['only-corrected'] === true ? all.filter((e) => e.corrected) : all;
    const csv = examplesCsv(rows);
    const out = str(p, 'out');
    if (out) {
      writeFileSync(out, csv);
      const corrected = rows.filter((e) => e.corrected).length;
      process.stderr.write(
        `已导出 ${rows.length} 条样本 (其中纠错 ${corrected} 条，确认 ${rows.length - corrected} 条) → ${out}\n`,
      );
    } else {
      process.stdout.write(csv);
    }
    return 0;
  } catch (e) {
    return failure(e, USAGE, '导出失败 export failed');
  }
}
