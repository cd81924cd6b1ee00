/**
 * Staff credentials for the consoles, one small module for both deployments:
 * - locally (`npm start`) an API key from config/local-keys.json, sent as `x-api-key`;
 * - on AWS a Cognito (or the city's OIDC) JWT, sent as `Authorization: Bearer <token>`.
 * Which one is read from `/config.json` (written by the build; the deployment may replace it). The credential lives
 * in sessionStorage: it goes with the tab, so a shared desk does not keep the last person signed in.
 */
export type StaffRole = 'agent' | 'department' | 'supervisor';

export interface PagesConfig {
  auth: { mode: 'apikey' | 'bearer'; signInUrl?: string };
}

export interface Credential {
  kind: 'apikey' | 'bearer';
  value: string;
  /** Epoch ms after which a bearer token is no longer accepted (from its `exp`). */
  expiresAt?: number;
}

const DEFAULT_CONFIG: PagesConfig = { auth: { mode: 'apikey' } };
let configLoad: Promise<PagesConfig> | undefined;

export function pagesConfig(): Promise<PagesConfig> {
  configLoad ??= fetch('/config.json', { headers: { accept: 'application/json' } })
    .then(async (r) => (r.ok ? ((await r.json()) as PagesConfig) : DEFAULT_CONFIG))
    .then((c) => (c?.auth?.mode === 'bearer' || c?.auth?.mode === 'apikey' ? c : DEFAULT_CONFIG))
    .catch(() => DEFAULT_CONFIG);
  return configLoad;
}

const storageKey = (role: StaffRole) => `cityloop.staff.${role}`;

/** The `exp` of a JWT in epoch ms, or undefined when the value is not a JWT. */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function makeCredential(kind: Credential['kind'], raw: string): Credential {
  const value = raw.trim().replace(/^Bearer\s+/i, '');
  const exp = kind === 'bearer' ? jwtExpiry(value) : undefined;
  return { kind, value, ...(exp ? { expiresAt: exp } : {}) };
}

export function getCredential(role: StaffRole, now = Date.now()): Credential | undefined {
  try {
    const raw = sessionStorage.getItem(storageKey(role));
    if (!raw) return undefined;
    const c = JSON.parse(raw) as Credential;
    if (c.expiresAt !== undefined && c.expiresAt <= now) {
      sessionStorage.removeItem(storageKey(role));
      return undefined;
    }
    return c;
  } catch {
    return undefined;
  }
}

export function setCredential(role: StaffRole, c: Credential): void {
  try {
    sessionStorage.setItem(storageKey(role), JSON.stringify(c));
  } catch {
    // Storage off: the credential lasts as long as the page (held by the caller).
  }
}

export function clearCredential(role: StaffRole): void {
  try {
    sessionStorage.removeItem(storageKey(role));
  } catch {
    // Nothing kept.
  }
}

export function authHeaders(c: Credential | undefined): Record<string, string> {
  if (!c) return {};
  return c.kind === 'apikey' ? { 'x-api-key': c.value } : { authorization: `Bearer ${c.value}` };
}
