/**
 * The local stack's stand-in for the Cognito JWT authorizer: API keys from `config/local-keys.json`
 * (or `CITYLOOP_KEYS_FILE`), sent as `x-api-key: <key>` or `Authorization: Bearer <key>`, become the same claims
 * Cognito would put in the event (`sub`, `cognito:username`, `cognito:groups`). Routes whose auth is not `public`
 * are refused without a valid key, as API Gateway refuses them without a valid JWT.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { RouteSpec } from '#core/topology.ts';

export interface LocalKey {
  key: string;
  id: string;
  name?: string;
  role: 'agent' | 'department' | 'supervisor';
  department?: string;
}

export function loadKeys(file: string): LocalKey[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys: LocalKey[] };
  return parsed.keys;
}

export function claimsFor(k: LocalKey): Record<string, string> {
  const group = k.role === 'agent' ? 'agents' : k.role === 'supervisor' ? 'supervisors' : `dept-${k.department}`;
  return { sub: k.id, 'cognito:username': k.id, 'cognito:groups': `[${group}]`, ...(k.name ? { name: k.name } : {}) };
}

export type AuthOutcome =
  | { ok: true; authorizer?: { jwt: { claims: Record<string, string>; scopes: string[] } } }
  | { ok: false; status: 401 };

export function authorize(req: IncomingMessage, route: RouteSpec, keys: LocalKey[]): AuthOutcome {
  const auth = req.headers.authorization;
  const presented =
    (typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined) ??
    (auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined);
  const key = presented ? keys.find((k) => k.key === presented) : undefined;
  if (route.auth === 'public') {
    // Public routes may still carry an identity (a staff member using the public page).
    return key ? { ok: true, authorizer: { jwt: { claims: claimsFor(key), scopes: [] } } } : { ok: true };
  }
  // Like the JWT authorizer: a missing or unknown credential is 401; the handler decides 403 by role.
  if (!key) return { ok: false, status: 401 };
  return { ok: true, authorizer: { jwt: { claims: claimsFor(key), scopes: [] } } };
}
