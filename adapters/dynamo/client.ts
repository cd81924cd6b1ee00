/**
 * One DynamoDB client per container (module scope), reused across invocations.
 * The SDK honours `AWS_ENDPOINT_URL_DYNAMODB`, which the local stack sets to the embedded dynalite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let client: DynamoDBClient | undefined;

export function dynamoClient(): DynamoDBClient {
  client ??= new DynamoDBClient({ maxAttempts: 4 });
  return client;
}

export function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

/** Forget the client (the local stack re-points the SDK when it restarts in the same process). */
export function resetDynamoClient(): void {
  client = undefined;
}
