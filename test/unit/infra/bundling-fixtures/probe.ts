/**
 * Entry bundled by test/unit/infra/bundling.test.ts with the Lambda options (`infra/bundling.ts`), then run in a
 * fresh Node process: it exercises what the aliases and `define`s touch (credentials, endpoints for the aws and
 * aws-cn partitions, SigV4 signing, retries, the S3 client without the event-stream codec, SES v2 through the
 * rewritten schema, a port left out of the runtime) and prints what it saw as one JSON line.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { getRuntime } from '#functions/lib/runtime.ts';

interface Seen {
  hostname: string;
  authorization: string | undefined;
}

/** A request handler that records the signed request and stops there (no network). */
function recorder(seen: Seen[]) {
  return {
    handle: async (request: { hostname: string; headers: Record<string, string> }) => {
      seen.push({ hostname: request.hostname, authorization: request.headers.authorization });
      throw Object.assign(new Error('probe: request recorded'), { name: 'ProbeStop' });
    },
  };
}

async function endpointOf(region: string): Promise<Seen | undefined> {
  const seen: Seen[] = [];
  const client = new DynamoDBClient({ region, maxAttempts: 1, requestHandler: recorder(seen) });
  await client
    .send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }))
    .catch(() => undefined);
  return seen[0];
}

export async function probe(fakeEndpoint: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  out.endpoints = { 'us-east-1': await endpointOf('us-east-1'), 'cn-north-1': await endpointOf('cn-north-1') };

  // Signed request to the fake (which answers one 500 first: the SDK must retry).
  const dynamo = new DynamoDBClient({ region: 'cn-north-1', endpoint: fakeEndpoint, maxAttempts: 3 });
  const got = await dynamo.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }));
  out.item = got.Item;
  out.attempts = got.$metadata.attempts;

  // S3 with the event-stream stand-in: construction, checksums, signing and the PUT itself must work.
  const s3 = new S3Client({ region: 'cn-north-1', endpoint: fakeEndpoint, forcePathStyle: true });
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: 'b',
      Key: 'k.txt',
      Body: new TextEncoder().encode('路灯'),
      ContentType: 'text/plain',
    }),
  );
  out.putStatus = put.$metadata.httpStatusCode;

  // SES v2 (REST JSON, its schema rewritten by the bundler's schema-keys plugin): path, body and answer.
  const ses = new SESv2Client({ region: 'us-east-1', endpoint: fakeEndpoint });
  const sent = await ses.send(
    new SendEmailCommand({
      FromEmailAddress: '12345@example.gov.cn',
      Destination: { ToAddresses: ['citizen@example.com'] },
      Content: { Simple: { Subject: { Data: '受理回执' }, Body: { Text: { Data: '您的诉求已受理' } } } },
    }),
  );
  out.messageId = sent.MessageId;

  // A port the defines left out: wiring it up works (handlers build services with every port), using it rejects.
  const blobs = getRuntime().blobs;
  out.blobs = await blobs.get('raw/x').then(
    () => 'read',
    (e: { code?: string }) => e.code ?? String(e),
  );
  return out;
}

export const handler = async (event: { endpoint: string }) => probe(event.endpoint);
