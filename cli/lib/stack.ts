/**
 * How CLI commands find the system they talk to: the running local stack (its `stack.json` in the data folder,
 * `CITYLOOP_DATA_DIR` or ./.cityloop), or AWS with the usual credentials and explicit queue URLs/table names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StackInfo } from '#local/stack.ts';
import { UsageError } from './args.ts';

export function localStackInfo(): StackInfo | undefined {
  const dir = resolve(process.env.CITYLOOP_DATA_DIR ?? '.cityloop');
  const file = join(dir, 'stack.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
}

/** Points the AWS SDK at the local emulators when a local stack is running and no AWS target was asked for. */
export function useLocalStack(info: StackInfo): void {
  process.env.AWS_ENDPOINT_URL_DYNAMODB ??= info.endpoints.dynamodb;
  process.env.AWS_ENDPOINT_URL_SQS ??= info.endpoints.sqs;
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ??= info.endpoints.eventbridge;
  process.env.AWS_REGION ??= info.region;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.TABLE_NAME ??= info.tableName;
  process.env.EVENT_BUS_NAME ??= info.busName;
}

/**
 * The table a table-reading command works on: the running local stack's (its emulators set up for the SDK) unless
 * `aws` is asked for; on AWS `--table` or TABLE_NAME. Throws a UsageError when there is neither.
 */
export function connectTable(aws: boolean, table: string | undefined): string {
  if (table) process.env.TABLE_NAME = table;
  if (!aws) {
    const info = localStackInfo();
    if (info) {
      useLocalStack(info);
      return process.env.TABLE_NAME ?? info.tableName;
    }
  }
  if (!process.env.TABLE_NAME) {
    throw new UsageError(
      '找不到本地运行的系统 no local stack found (run `npm start`, or set CITYLOOP_DATA_DIR); for AWS pass --aws with TABLE_NAME or --table',
    );
  }
  return process.env.TABLE_NAME;
}
