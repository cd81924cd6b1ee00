/**
 * `TrainingExampleStore` on the one table: pk `TRAINEX#<day>`, sk `<caseId>#<version>` (zero-padded), the example as
 * JSON in `doc`. A put of the same step writes the same item again (idempotent); an export reads one partition per day.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { dateOfDay, dayNumber, type IsoDate } from '#core/calendar/shanghai-time.ts';
import type { TrainingExample, TrainingExampleStore } from '#core/cases/corrections.ts';

const MAX_DAYS = 3660;
const pkOf = (day: string) => `TRAINEX#${day}`;
const skOf = (e: Pick<TrainingExample, 'caseId' | 'version'>) => `${e.caseId}#${String(e.version).padStart(6, '0')}`;

export class DynamoTrainingExamples implements TrainingExampleStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putExample(e: TrainingExample): Promise<void> {
    await this.db.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ pk: pkOf(e.day), sk: skOf(e), doc: JSON.stringify(e) }),
      }),
    );
  }

  async listExamples(from: string, to: string): Promise<TrainingExample[]> {
    const first = dayNumber(from as IsoDate);
    const last = dayNumber(to as IsoDate);
    if (last < first) return [];
    if (last - first >= MAX_DAYS) throw new RangeError(`at most ${MAX_DAYS} days per export`);
    const out: TrainingExample[] = [];
    for (let d = first; d <= last; d++) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: marshall({ ':pk': pkOf(dateOfDay(d)) }),
            ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const doc = unmarshall(item).doc;
          if (typeof doc === 'string') out.push(JSON.parse(doc) as TrainingExample);
        }
        start = page.LastEvaluatedKey ? unmarshall(page.LastEvaluatedKey) : undefined;
      } while (start);
    }
    return out.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }
}
