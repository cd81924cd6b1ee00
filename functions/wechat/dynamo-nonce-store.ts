/**
 * The push replay guard on AWS: one conditional PutItem per request in the single table, shared by every Lambda
 * instance. Item `WXNONCE#<timestamp>#<nonce>` / `NONCE` with the request fingerprint; `expiresAt` lets DynamoDB TTL
 * remove it (TTL runs up to ~48 h late, which is harmless: a request that old is refused as stale before this check).
 */
import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { NonceStore } from '#channels/wechat/push.ts';

export class DynamoNonceStore implements NonceStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    private readonly windowSeconds = 300,
  ) {}

  async seen(nonce: string, timestamp: number, fingerprint: string): Promise<boolean> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: `WXNONCE#${timestamp}#${nonce}` },
            sk: { S: 'NONCE' },
            fp: { S: fingerprint },
            expiresAt: { N: String(timestamp + 2 * this.windowSeconds) },
          },
          // First use, or WeChat's identical retry of the same request.
          ConditionExpression: 'attribute_not_exists(pk) OR fp = :fp',
          ExpressionAttributeValues: { ':fp': { S: fingerprint } },
        }),
      );
      return false;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return true;
      throw e;
    }
  }
}
