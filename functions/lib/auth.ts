/**
 * Who is calling: staff identity from the API Gateway JWT authorizer (Cognito on AWS; the local stack's API-key
 * authorizer builds the same claims). Groups: `agents`, `supervisors`, `dept-<id>`.
 * HTTP API passes an array claim as a string like "[agents dept-zhujian]".
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
 */
import { CityLoopError } from '#core/errors.ts';
import type { HttpEvent } from './http.ts';

export type StaffRole = 'agent' | 'department' | 'supervisor';

export interface Actor {
  role: 'citizen' | 'agent' | 'department' | 'supervisor' | 'system';
  id: string;
  department?: string;
  name?: string;
}

export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string' || claim === '') return [];
  return claim
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((g) => g.replace(/^"|"$/g, ''))
    .filter(Boolean);
}

/** The staff actor of an authorized request, or undefined for anonymous callers. */
export function staffActor(event: HttpEvent): Actor | undefined {
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer
    ?.jwt?.claims;
  if (!claims?.sub) return undefined;
  const groups = groupsOf(claims['cognito:groups']);
  const id = String(claims['cognito:username'] ?? claims.username ?? claims.sub);
  const name = typeof claims.name === 'string' ? claims.name : undefined;
  const dept = groups.find((g) => g.startsWith('dept-'))?.slice(5);
  if (groups.includes('supervisors')) return { role: 'supervisor', id, ...(name ? { name } : {}) };
  if (dept) return { role: 'department', id, department: dept, ...(name ? { name } : {}) };
  if (groups.includes('agents')) return { role: 'agent', id, ...(name ? { name } : {}) };
  return undefined;
}

/** The caller must be one of `roles`; 401 without identity, 403 with the wrong one. */
export function requireStaff(event: HttpEvent, ...roles: StaffRole[]): Actor {
  const actor = staffActor(event);
  if (!actor) throw new CityLoopError('UNAUTHENTICATED', '需要登录 authentication required', 401);
  if (!roles.includes(actor.role as StaffRole)) {
    throw new CityLoopError('FORBIDDEN_ROLE', `角色 ${actor.role} 无权执行此操作 role not allowed`, 403);
  }
  return actor;
}
