/**
 * Staff credentials for the consoles, one small module for every deployment:
 * - locally (`npm start`) an API key from config/local-keys.json, sent as `x-api-key`;
 * - on AWS the Cognito hosted UI (or the city's OIDC provider): OAuth 2.0 authorization code with PKCE (RFC 7636;
 *   the pages are a public client, no secret), the ID token sent as `Authorization: Bearer <token>`, refreshed
 *   with the refresh token before it expires, and a sign-out that ends the hosted session too;
 * - where neither is configured (aws-cn without an issuer) a JWT pasted into the token field.
 * Which one is read from `/config.json` (the build writes the local one; the stack writes the deployed one). The
 * credential lives in sessionStorage: it goes with the tab, so a shared desk does not keep the last person signed in.
 */
export type StaffRole = 'agent' | 'department' | 'supervisor';

/** Where the hosted sign-in lives: endpoints (Cognito) or an OIDC issuer whose discovery document names them. */
export interface OAuthConfig {
  clientId: string;
  scopes?: string[];
  authorizeUrl?: string;
  tokenUrl?: string;
  logoutUrl?: string;
  issuer?: string;
}

export interface PagesConfig {
  auth: { mode: 'apikey' | 'bearer' | 'oauth'; signInUrl?: string; oauth?: OAuthConfig };
}

export interface Credential {
  kind: 'apikey' | 'bearer';
  value: string;
  /** Epoch ms after which a bearer token is no longer accepted (from its `exp`). */
  expiresAt?: number;
  /** OAuth sign-in: the refresh token that buys a new ID token before `expiresAt`. */
  refreshToken?: string;
}

const DEFAULT_CONFIG: PagesConfig = { auth: { mode: 'apikey' } };
let configLoad: Promise<PagesConfig> | undefined;

/** The config as the pages can use it: an unknown mode or an OAuth block without a client falls back to API keys. */
export function validConfig(c: unknown): PagesConfig {
  const auth = (c as PagesConfig | undefined)?.auth;
  if (auth?.mode === 'bearer' || auth?.mode === 'apikey') return c as PagesConfig;
  const o = auth?.oauth;
  if (auth?.mode === 'oauth' && o && typeof o.clientId === 'string' && o.clientId !== '') {
    if ((typeof o.authorizeUrl === 'string' && typeof o.tokenUrl === 'string') || typeof o.issuer === 'string') {
      return c as PagesConfig;
    }
  }
  return DEFAULT_CONFIG;
}

export function pagesConfig(): Promise<PagesConfig> {
  configLoad ??= fetch('/config.json', { headers: { accept: 'application/json' } })
    .then(async (r) => (r.ok ? validConfig(await r.json()) : DEFAULT_CONFIG))
    .catch(() => DEFAULT_CONFIG);
  return configLoad;
}

// ---- OAuth 2.0 authorization code + PKCE -------------------------------------------------------------------

/** What `sessionStorage` offers; injectable for tests. */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

const PENDING_KEY = 'cityloop.oauth.pending';
/** The page folder of each console: its redirect URI is `<origin>/<folder>/` (registered on the app client). */
export const CONSOLE_PATH: Readonly<Record<StaffRole, string>> = {
  agent: 'agent',
  department: 'dept',
  supervisor: 'supervisor',
};

export function redirectUri(origin: string, role: StaffRole): string {
  return `${origin.replace(/\/+$/, '')}/${CONSOLE_PATH[role]}/`;
}

export function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A code verifier: 32 random bytes, base64url (43 characters of the unreserved set, RFC 7636 §4.1). */
export function randomVerifier(bytes: Uint8Array = crypto.getRandomValues(new Uint8Array(32))): string {
  return base64url(bytes);
}

/** `code_challenge` for the S256 method: BASE64URL(SHA-256(ASCII(code_verifier))) (RFC 7636 §4.2). */
export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

interface Endpoints {
  authorizeUrl: string;
  tokenUrl: string;
  logoutUrl?: string;
}

/** The endpoints: given (Cognito), or from the issuer's discovery document (OIDC). */
export async function endpointsOf(o: OAuthConfig, fetchFn: Fetch = fetch): Promise<Endpoints> {
  if (o.authorizeUrl && o.tokenUrl) {
    return { authorizeUrl: o.authorizeUrl, tokenUrl: o.tokenUrl, ...(o.logoutUrl ? { logoutUrl: o.logoutUrl } : {}) };
  }
  const res = await fetchFn(`${(o.issuer ?? '').replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`OIDC discovery failed (${res.status})`);
  const d = (await res.json()) as Record<string, unknown>;
  if (typeof d.authorization_endpoint !== 'string' || typeof d.token_endpoint !== 'string') {
    throw new Error('OIDC discovery names no authorization/token endpoint');
  }
  return {
    authorizeUrl: d.authorization_endpoint,
    tokenUrl: d.token_endpoint,
    ...(typeof d.end_session_endpoint === 'string' ? { logoutUrl: d.end_session_endpoint } : {}),
  };
}

interface Pending {
  state: string;
  verifier: string;
  role: StaffRole;
  redirectUri: string;
}

/**
 * The authorization request: a fresh verifier and state are kept in `store` (the tab's sessionStorage) for the
 * callback; the browser is then sent to the returned URL.
 */
export async function authorizeUrl(
  o: OAuthConfig,
  role: StaffRole,
  origin: string,
  store: KeyValueStore,
  fetchFn: Fetch = fetch,
): Promise<string> {
  const { authorizeUrl: endpoint } = await endpointsOf(o, fetchFn);
  const pending: Pending = {
    state: randomVerifier(),
    verifier: randomVerifier(),
    role,
    redirectUri: redirectUri(origin, role),
  };
  store.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: pending.redirectUri,
    scope: (o.scopes ?? ['openid']).join(' '),
    state: pending.state,
    code_challenge: await pkceChallenge(pending.verifier),
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

export class SignInError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface TokenAnswer {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
}

async function tokenRequest(tokenUrl: string, form: Record<string, string>, fetchFn: Fetch): Promise<TokenAnswer> {
  let res: Response;
  try {
    res = await fetchFn(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
  } catch {
    throw new SignInError('NETWORK', 'token endpoint unreachable');
  }
  const body = (await res.json().catch(() => ({}))) as TokenAnswer & { error?: string; error_description?: string };
  if (!res.ok)
    throw new SignInError(body.error ?? `HTTP_${res.status}`, body.error_description ?? `HTTP ${res.status}`);
  return body;
}

function credentialOf(t: TokenAnswer, now: number, keepRefresh?: string): Credential {
  // The ID token: its `aud` is the pages' client (what the API's JWT authorizer checks) and it names the groups.
  const value = t.id_token ?? t.access_token;
  if (!value) throw new SignInError('NO_TOKEN', 'the token endpoint returned no token');
  const exp = jwtExpiry(value) ?? (typeof t.expires_in === 'number' ? now + t.expires_in * 1000 : undefined);
  const refreshToken = t.refresh_token ?? keepRefresh;
  return { kind: 'bearer', value, ...(exp ? { expiresAt: exp } : {}), ...(refreshToken ? { refreshToken } : {}) };
}

/** True when `url` is the hosted UI coming back (a code or an error, with a state). */
export function isCallback(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

/**
 * The callback: the state must be the one this tab sent (no login CSRF), then the code is exchanged for tokens with
 * the verifier only this tab knows. The pending request is used once.
 */
export async function completeSignIn(
  o: OAuthConfig,
  role: StaffRole,
  url: URL,
  store: KeyValueStore,
  fetchFn: Fetch = fetch,
  now = Date.now(),
): Promise<Credential> {
  const raw = store.getItem(PENDING_KEY);
  store.removeItem(PENDING_KEY);
  const pending = raw ? (JSON.parse(raw) as Pending) : undefined;
  const q = url.searchParams;
  if (!pending || pending.role !== role || q.get('state') !== pending.state) {
    throw new SignInError('STATE_MISMATCH', 'this sign-in was not started from this page');
  }
  if (q.has('error')) throw new SignInError(q.get('error') ?? 'error', q.get('error_description') ?? 'sign-in refused');
  const { tokenUrl } = await endpointsOf(o, fetchFn);
  const t = await tokenRequest(
    tokenUrl,
    {
      grant_type: 'authorization_code',
      client_id: o.clientId,
      code: q.get('code') ?? '',
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
    },
    fetchFn,
  );
  return credentialOf(t, now);
}

/** A new ID token for a credential that has a refresh token (Cognito returns no new refresh token: the old stays). */
export async function refreshCredential(
  o: OAuthConfig,
  c: Credential,
  fetchFn: Fetch = fetch,
  now = Date.now(),
): Promise<Credential> {
  if (!c.refreshToken) throw new SignInError('NO_REFRESH_TOKEN', 'sign in again');
  const { tokenUrl } = await endpointsOf(o, fetchFn);
  const t = await tokenRequest(
    tokenUrl,
    { grant_type: 'refresh_token', client_id: o.clientId, refresh_token: c.refreshToken },
    fetchFn,
  );
  return credentialOf(t, now, c.refreshToken);
}

/** Where sign-out sends the browser so the hosted session ends too (Cognito `/logout`, OIDC end_session). */
export async function signOutUrl(
  o: OAuthConfig,
  role: StaffRole,
  origin: string,
  fetchFn: Fetch = fetch,
): Promise<string | undefined> {
  const { logoutUrl } = await endpointsOf(o, fetchFn).catch(() => ({ logoutUrl: undefined }));
  if (!logoutUrl) return undefined;
  const url = new URL(logoutUrl);
  const back = redirectUri(origin, role);
  url.search = new URLSearchParams(
    o.issuer && !o.logoutUrl
      ? { client_id: o.clientId, post_logout_redirect_uri: back }
      : { client_id: o.clientId, logout_uri: back },
  ).toString();
  return url.toString();
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
    // An expired token with a refresh token is kept: the console refreshes it before the first call.
    if (c.expiresAt !== undefined && c.expiresAt <= now && !c.refreshToken) {
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
