/** Staff sign-in of the pages (web/src/lib/auth.ts): PKCE per RFC 7636, the code flow, refresh and sign-out. */
import { describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  base64url,
  completeSignIn,
  endpointsOf,
  isCallback,
  type KeyValueStore,
  type OAuthConfig,
  pkceChallenge,
  randomVerifier,
  redirectUri,
  refreshCredential,
  type SignInError,
  signOutUrl,
  validConfig,
} from '../../../web/src/lib/auth.ts';

const COGNITO: OAuthConfig = {
  clientId: 'pages-client',
  scopes: ['openid', 'email', 'profile'],
  authorizeUrl: 'https://pingshan-staff.auth.ap-east-1.amazoncognito.com/oauth2/authorize',
  tokenUrl: 'https://pingshan-staff.auth.ap-east-1.amazoncognito.com/oauth2/token',
  logoutUrl: 'https://pingshan-staff.auth.ap-east-1.amazoncognito.com/logout',
};
const ORIGIN = 'https://d111111abcdef8.cloudfront.net';

class MemoryStore implements KeyValueStore {
  readonly items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
}

const jwt = (payload: Record<string, unknown>) =>
  ['{"alg":"none"}', JSON.stringify(payload), ''].map((p) => Buffer.from(p).toString('base64url')).join('.');

/** A token endpoint that records what it was sent. */
function tokenEndpoint(answer: Record<string, unknown>, status = 200) {
  const calls: { url: string; form: URLSearchParams; headers: Record<string, string> }[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    calls.push({
      url,
      form: new URLSearchParams(String(init?.body ?? '')),
      headers: (init?.headers ?? {}) as Record<string, string>,
    });
    return new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } });
  };
  return { calls, fetchFn };
}

describe('Module: web/src/lib/auth (PKCE)', () => {
  it('should derive the S256 challenge of the RFC 7636 Appendix B example', async () => {
    // Prepare: the 32 octets of the RFC's example verifier.
    const octets = Uint8Array.from([
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240,
      91, 88, 5, 88, 83, 132, 141, 121,
    ]);
    // Act
    const verifier = randomVerifier(octets);
    const challenge = await pkceChallenge(verifier);
    // Assess
    expect(verifier).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('should make fresh 43-character verifiers from the unreserved alphabet', () => {
    // Act
    const a = randomVerifier();
    const b = randomVerifier();
    // Assess
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b).not.toBe(a);
    expect(base64url(Uint8Array.from([251, 255]))).toBe('-_8');
  });
});

describe('Module: web/src/lib/auth (code flow)', () => {
  it('should send the console to the hosted UI with a challenge, a state and its own redirect URI', async () => {
    // Prepare
    const store = new MemoryStore();
    // Act
    const url = new URL(await authorizeUrl(COGNITO, 'department', ORIGIN, store));
    const pending = JSON.parse(store.getItem('cityloop.oauth.pending') ?? '{}');
    // Assess
    expect(`${url.origin}${url.pathname}`).toBe(COGNITO.authorizeUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'pages-client',
      redirect_uri: `${ORIGIN}/dept/`,
      scope: 'openid email profile',
      state: pending.state,
      code_challenge: await pkceChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    expect(pending.verifier).not.toBe(pending.state);
  });

  it('should exchange the code with the verifier and keep the ID token and the refresh token', async () => {
    // Prepare
    const store = new MemoryStore();
    const auth = new URL(await authorizeUrl(COGNITO, 'agent', ORIGIN, store));
    const state = auth.searchParams.get('state') ?? '';
    const exp = 1_900_000_000;
    const { calls, fetchFn } = tokenEndpoint({
      id_token: jwt({ exp, 'cognito:groups': ['agents'] }),
      access_token: jwt({ exp }),
      refresh_token: 'refresh-1',
      expires_in: 3600,
      token_type: 'Bearer',
    });
    const back = new URL(`${ORIGIN}/agent/?code=abc123&state=${state}`);
    // Act
    const c = await completeSignIn(COGNITO, 'agent', back, store, fetchFn);
    // Assess
    expect(isCallback(back)).toBe(true);
    expect(c).toEqual({
      kind: 'bearer',
      value: jwt({ exp, 'cognito:groups': ['agents'] }),
      expiresAt: exp * 1000,
      refreshToken: 'refresh-1',
    });
    expect(calls[0]?.url).toBe(COGNITO.tokenUrl);
    expect(calls[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = Object.fromEntries(calls[0]?.form ?? []);
    expect(form).toMatchObject({
      grant_type: 'authorization_code',
      client_id: 'pages-client',
      code: 'abc123',
      redirect_uri: `${ORIGIN}/agent/`,
    });
    expect(await pkceChallenge(form.code_verifier ?? '')).toBe(auth.searchParams.get('code_challenge'));
    expect(store.getItem('cityloop.oauth.pending')).toBeNull();
  });

  it('should refuse a callback with another state, for another console, or used twice', async () => {
    // Prepare
    const store = new MemoryStore();
    const { fetchFn, calls } = tokenEndpoint({ id_token: jwt({ exp: 1 }) });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: SignInError) => e.code,
      );
    const state = new URL(await authorizeUrl(COGNITO, 'agent', ORIGIN, store)).searchParams.get('state');
    // Act
    const forged = await code(
      completeSignIn(COGNITO, 'agent', new URL(`${ORIGIN}/agent/?code=x&state=evil`), store, fetchFn),
    );
    await authorizeUrl(COGNITO, 'agent', ORIGIN, store);
    const otherConsole = await code(
      completeSignIn(COGNITO, 'supervisor', new URL(`${ORIGIN}/supervisor/?code=x&state=${state}`), store, fetchFn),
    );
    const replay = await code(
      completeSignIn(COGNITO, 'agent', new URL(`${ORIGIN}/agent/?code=x&state=${state}`), store, fetchFn),
    );
    // Assess
    expect([forged, otherConsole, replay]).toEqual(['STATE_MISMATCH', 'STATE_MISMATCH', 'STATE_MISMATCH']);
    expect(calls).toHaveLength(0);
  });

  it('should report the hosted UI’s error and the token endpoint’s refusal as coded errors', async () => {
    // Prepare
    const store = new MemoryStore();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: SignInError) => e.code,
      );
    let state = new URL(await authorizeUrl(COGNITO, 'agent', ORIGIN, store)).searchParams.get('state');
    const denied = await code(
      completeSignIn(COGNITO, 'agent', new URL(`${ORIGIN}/agent/?error=access_denied&state=${state}`), store),
    );
    state = new URL(await authorizeUrl(COGNITO, 'agent', ORIGIN, store)).searchParams.get('state');
    const { fetchFn } = tokenEndpoint({ error: 'invalid_grant' }, 400);
    // Act
    const refused = await code(
      completeSignIn(COGNITO, 'agent', new URL(`${ORIGIN}/agent/?code=x&state=${state}`), store, fetchFn),
    );
    // Assess
    expect(denied).toBe('access_denied');
    expect(refused).toBe('invalid_grant');
  });

  it('should refresh the ID token and keep the refresh token Cognito does not renew', async () => {
    // Prepare
    const { calls, fetchFn } = tokenEndpoint({ id_token: jwt({ exp: 1_900_003_600 }), expires_in: 3600 });
    // Act
    const c = await refreshCredential(
      COGNITO,
      { kind: 'bearer', value: 'old', expiresAt: 1, refreshToken: 'refresh-1' },
      fetchFn,
    );
    // Assess
    expect(c).toMatchObject({ kind: 'bearer', expiresAt: 1_900_003_600_000, refreshToken: 'refresh-1' });
    expect(Object.fromEntries(calls[0]?.form ?? [])).toEqual({
      grant_type: 'refresh_token',
      client_id: 'pages-client',
      refresh_token: 'refresh-1',
    });
  });

  it('should end the hosted session on sign-out and come back to the console', async () => {
    // Act
    const url = new URL((await signOutUrl(COGNITO, 'supervisor', ORIGIN)) ?? '');
    // Assess
    expect(`${url.origin}${url.pathname}`).toBe(COGNITO.logoutUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'pages-client',
      logout_uri: `${ORIGIN}/supervisor/`,
    });
    expect(redirectUri(`${ORIGIN}/`, 'agent')).toBe(`${ORIGIN}/agent/`);
  });

  it('should discover an OIDC issuer’s endpoints (aws-cn: the city’s provider)', async () => {
    // Prepare
    const issuer = 'https://sso.pingshan.gov.cn/oidc';
    const seen: string[] = [];
    const fetchFn = async (url: string) => {
      seen.push(url);
      return new Response(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          end_session_endpoint: `${issuer}/logout`,
        }),
      );
    };
    // Act
    const e = await endpointsOf({ clientId: 'c', issuer }, fetchFn);
    const out = new URL((await signOutUrl({ clientId: 'c', issuer }, 'agent', ORIGIN, fetchFn)) ?? '');
    // Assess
    expect(seen[0]).toBe(`${issuer}/.well-known/openid-configuration`);
    expect(e).toEqual({
      authorizeUrl: `${issuer}/authorize`,
      tokenUrl: `${issuer}/token`,
      logoutUrl: `${issuer}/logout`,
    });
    expect(out.searchParams.get('post_logout_redirect_uri')).toBe(`${ORIGIN}/agent/`);
  });

  it('should accept only usable configs and fall back to API keys otherwise', () => {
    // Act & Assess
    expect(validConfig({ auth: { mode: 'oauth', oauth: COGNITO } }).auth.mode).toBe('oauth');
    expect(validConfig({ auth: { mode: 'oauth', oauth: { clientId: 'c', issuer: 'https://x' } } }).auth.mode).toBe(
      'oauth',
    );
    expect(validConfig({ auth: { mode: 'oauth', oauth: { clientId: '' } } }).auth.mode).toBe('apikey');
    expect(validConfig({ auth: { mode: 'oauth' } }).auth.mode).toBe('apikey');
    expect(validConfig({ auth: { mode: 'bearer' } }).auth.mode).toBe('bearer');
    expect(validConfig(null).auth.mode).toBe('apikey');
  });
});
