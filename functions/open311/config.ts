/**
 * Open311 settings for the handler, read once per container: `config/open311.json`, overlaid by env and secrets.
 *
 * Env:
 * - OPEN311_JURISDICTION_ID  the jurisdiction served (default: the file's `jurisdictionId`).
 * - OPEN311_BASE_URL         absolute base URL published in discovery (default: from the request's host).
 * - OPEN311_API_KEY          one client key, client id `env` (what `OPEN311_API_KEY=... npm start` registers).
 * - OPEN311_CLIENTS          JSON array of clients `[{ "id", "key" | "keySha256", "name"?, "perMinute"?, "burst"? }]`.
 * - OPEN311_SECRET_ID        a Secrets Manager secret whose SecretString is that JSON array (or `{ "clients": [...] }`),
 *                            read through the AWS Parameters and Secrets Lambda Extension (loopback HTTP, no SDK):
 *                            https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html
 * The file's `localClients` (a documented demo key) count only outside Lambda (`AWS_LAMBDA_FUNCTION_NAME` unset):
 * a deployed endpoint accepts only keys from env or the secret.
 *
 * Rate limits are token buckets in the container's memory. HTTP APIs (API Gateway v2) have no usage plans or API
 * keys, only stage/route throttling shared by all callers, so on AWS each client's limit holds per Lambda container
 * (N warm containers let a client through N× its rate); the stage throttle is the global backstop. A strict
 * cross-container limit would need a counter in DynamoDB or a REST API with usage plans.
 */

import * as z from 'zod/mini';
import { readSecretJson, SecretFormatError, type SecretReader } from '#adapters/secrets/secrets.ts';
import { type Open311Client, sha256Hex } from '#channels/open311/clients.ts';
import { type Open311Config, parseOpen311Config } from '#channels/open311/config.ts';
import { buildCatalog, type ServiceCatalog, unknownConfiguredServices } from '#channels/open311/services.ts';
import { CityLoopError } from '#core/errors.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import configFile from '../../config/open311.json' with { type: 'json' };

export interface Open311Settings {
  config: Open311Config;
  jurisdictionId: string;
  publicBaseUrl?: string;
  catalog: ServiceCatalog;
  clients: Open311Client[];
}

const ClientEntry = z
  .object({
    id: z.string().check(z.regex(/^[a-z0-9-]{1,32}$/)),
    name: z.optional(z.string().check(z.maxLength(100))),
    key: z.optional(z.string().check(z.minLength(16), z.maxLength(256))),
    keySha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
    perMinute: z.optional(z.number().check(z.int(), z.gte(1))),
    burst: z.optional(z.number().check(z.int(), z.gte(1))),
  })
  .check(
    z.refine((c) => Boolean(c.key) !== Boolean(c.keySha256), { message: 'give exactly one of key and keySha256' }),
  );
const ClientList = z.array(ClientEntry).check(z.maxLength(1000));

function notConfigured(message: string): CityLoopError {
  return new CityLoopError('OPEN311_NOT_CONFIGURED', message, 500);
}

function parseClients(value: unknown, source: string, config: Open311Config): Open311Client[] {
  const list =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as { clients?: unknown }).clients
      : value;
  const r = ClientList.safeParse(list);
  if (!r.success)
    throw notConfigured(`${source} is not a valid client list: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data.map((c) => ({
    id: c.id,
    ...(c.name ? { name: c.name } : {}),
    keySha256: c.keySha256 ?? sha256Hex(c.key ?? ''),
    rate: {
      perMinute: c.perMinute ?? config.rateLimit.client.perMinute,
      burst: c.burst ?? config.rateLimit.client.burst,
    },
  }));
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw notConfigured(`${source} is not JSON`);
  }
}

/** The Open311 secret (`{"clients": [...]}`), through the shared Secrets Manager reader. */
export async function fetchSecret(secretId: string, read: SecretReader = readSecretJson): Promise<unknown> {
  try {
    return await read(secretId);
  } catch (e) {
    throw notConfigured(
      e instanceof SecretFormatError
        ? 'the Open311 secret must be a JSON object'
        : 'the Open311 secret could not be read',
    );
  }
}

export async function loadOpen311Settings(
  env: NodeJS.ProcessEnv = process.env,
  read?: SecretReader,
  file: unknown = configFile,
): Promise<Open311Settings> {
  const config = parseOpen311Config(file);
  const unknown = unknownConfiguredServices(defaultTaxonomy, config);
  if (unknown.length > 0)
    throw notConfigured(`config/open311.json names services not in the taxonomy: ${unknown.join(', ')}`);
  const clients: Open311Client[] = [];
  if (!env.AWS_LAMBDA_FUNCTION_NAME) {
    for (const c of config.localClients) {
      clients.push({
        id: c.id,
        ...(c.name ? { name: c.name } : {}),
        keySha256: c.keySha256,
        rate: {
          perMinute: c.perMinute ?? config.rateLimit.client.perMinute,
          burst: c.burst ?? config.rateLimit.client.burst,
        },
      });
    }
  }
  if (env.OPEN311_API_KEY) {
    clients.push(...parseClients([{ id: 'env', key: env.OPEN311_API_KEY }], 'OPEN311_API_KEY', config));
  }
  if (env.OPEN311_CLIENTS)
    clients.push(...parseClients(parseJson(env.OPEN311_CLIENTS, 'OPEN311_CLIENTS'), 'OPEN311_CLIENTS', config));
  if (env.OPEN311_SECRET_ID) {
    clients.push(...parseClients(await fetchSecret(env.OPEN311_SECRET_ID, read), 'the Open311 secret', config));
  }
  const baseUrl = env.OPEN311_BASE_URL ?? config.publicBaseUrl;
  return {
    config,
    jurisdictionId: env.OPEN311_JURISDICTION_ID || config.jurisdictionId,
    ...(baseUrl ? { publicBaseUrl: baseUrl.replace(/\/+$/, '') } : {}),
    catalog: buildCatalog(defaultTaxonomy, config),
    clients,
  };
}

let cached: Promise<Open311Settings> | undefined;

/** Once per container; a failed load is retried on the next request instead of being cached. */
export function open311Settings(): Promise<Open311Settings> {
  cached ??= loadOpen311Settings().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/** Tests and the local stack change env between runs. */
export function resetOpen311Settings(): void {
  cached = undefined;
}
