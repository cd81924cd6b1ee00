/** Pieces every page shares: mounting, the header with the language switch, fields, notices, staff sign-in. */
import { type ComponentChildren, type FunctionComponent, h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import {
  authorizeUrl,
  type Credential,
  clearCredential,
  completeSignIn,
  getCredential,
  isCallback,
  makeCredential,
  type PagesConfig,
  pagesConfig,
  refreshCredential,
  SignInError,
  type StaffRole,
  setCredential,
  signOutUrl,
} from './auth.ts';
import { type Lang, lang, onLangChange, setLang, tr } from './i18n.ts';

/** Renders the page and renders it again when the language changes (state is kept: same tree, new words). */
export function mount(App: FunctionComponent, el: HTMLElement | null = document.getElementById('app')): void {
  if (!el) return;
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  const draw = () => render(h(App, { lang: lang() } as Record<string, unknown>), el);
  onLangChange(draw);
  draw();
}

export function LangSwitch() {
  const other: Lang = lang() === 'zh' ? 'en' : 'zh';
  return h(
    'button',
    {
      type: 'button',
      class: 'lang',
      lang: other === 'en' ? 'en' : 'zh-CN',
      'aria-label': other === 'en' ? 'Switch to English' : '切换到中文',
      onClick: () => setLang(other),
    },
    other === 'en' ? 'English' : '中文',
  );
}

export function Header(props: { title: string; subtitle?: string; children?: ComponentChildren }) {
  return h(
    'header',
    { class: 'top' },
    h('div', { class: 'brand' }, h('h1', null, props.title), props.subtitle ? h('p', null, props.subtitle) : null),
    h('div', { class: 'tools' }, props.children, h(LangSwitch, null)),
  );
}

export function Field(props: { label: string; hint?: string; id?: string; children?: ComponentChildren }) {
  return h(
    'label',
    { class: 'field', ...(props.id ? { for: props.id } : {}) },
    h('span', { class: 'label' }, props.label),
    props.children,
    props.hint ? h('small', { class: 'hint' }, props.hint) : null,
  );
}

export type NoticeKind = 'info' | 'ok' | 'error';

export function Notice(props: { kind: NoticeKind; children?: ComponentChildren; id?: string }) {
  return h(
    'div',
    {
      class: `notice ${props.kind}`,
      role: props.kind === 'error' ? 'alert' : 'status',
      ...(props.id ? { id: props.id } : {}),
    },
    props.children,
  );
}

export function Badge(props: { tone?: string; children?: ComponentChildren; title?: string }) {
  return h(
    'span',
    { class: `badge ${props.tone ?? ''}`, ...(props.title ? { title: props.title } : {}) },
    props.children,
  );
}

const ROLE_TITLES: Record<StaffRole, [string, string]> = {
  agent: ['话务员登录', 'Agent sign-in'],
  department: ['承办单位登录', 'Department sign-in'],
  supervisor: ['值班长登录', 'Supervisor sign-in'],
};

const LOCAL_KEY_EXAMPLE: Record<StaffRole, string> = {
  agent: 'local-agent-001',
  department: 'local-dept-chengguan',
  supervisor: 'local-supervisor-001',
};

/** Refresh an OAuth token this long before it expires. */
const REFRESH_AHEAD_MS = 60_000;

/**
 * The credential of a console: signs in when there is none, and signs out on 401 (`onAuthError`). With an API key
 * (local stack), the hosted sign-in (AWS: OAuth code + PKCE, refreshed before expiry) or a pasted bearer token.
 */
export function useStaff(role: StaffRole) {
  const [credential, setCred] = useState<Credential | undefined>(() => getCredential(role));
  const drop = () => {
    clearCredential(role);
    setCred(undefined);
  };
  const refresh = async (c: Credential) => {
    const config = await pagesConfig();
    const oauth = config.auth.oauth;
    if (config.auth.mode !== 'oauth' || !oauth || !c.refreshToken) return drop();
    try {
      const next = await refreshCredential(oauth, c);
      setCredential(role, next);
      setCred(next);
    } catch {
      drop();
    }
  };
  // A token with a refresh token is renewed a minute before it expires (at once if it already has).
  useEffect(() => {
    if (!credential?.refreshToken || credential.expiresAt === undefined) return;
    const wait = Math.max(0, credential.expiresAt - REFRESH_AHEAD_MS - Date.now());
    const id = setTimeout(() => void refresh(credential), Math.min(wait, 2_147_000_000));
    return () => clearTimeout(id);
  }, [credential?.value]);
  return {
    credential,
    signIn(c: Credential) {
      setCredential(role, c);
      setCred(c);
    },
    /** Signs out here, and at the hosted sign-in too when the pages use it. */
    signOut() {
      drop();
      void pagesConfig().then(async (config) => {
        const oauth = config.auth.oauth;
        if (config.auth.mode !== 'oauth' || !oauth) return;
        const url = await signOutUrl(oauth, role, location.origin);
        if (url) location.assign(url);
      });
    },
    /** Call with any API error: a 401 refreshes an OAuth token once, or signs out (the key or token is refused). */
    check(e: unknown) {
      if (e instanceof ApiError && e.status === 401) {
        if (credential?.refreshToken && credential.expiresAt !== undefined && credential.expiresAt <= Date.now()) {
          void refresh(credential);
        } else drop();
      }
    },
  };
}

/** The hosted sign-in (OAuth code + PKCE): a button that goes there, and the callback that comes back. */
function HostedSignIn(props: { role: StaffRole; config: PagesConfig; onSignedIn: (c: Credential) => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const oauth = props.config.auth.oauth;
  useEffect(() => {
    const url = new URL(location.href);
    if (!oauth || !isCallback(url)) return;
    setBusy(true);
    // The code is used once: take it out of the address bar (and the history) before anything else.
    history.replaceState(null, '', url.pathname);
    completeSignIn(oauth, props.role, url, sessionStorage)
      .then(props.onSignedIn)
      .catch((e) => {
        setBusy(false);
        setError(
          e instanceof SignInError && e.code === 'STATE_MISMATCH'
            ? tr('登录请求已失效，请重新登录', 'The sign-in expired: please sign in again')
            : tr(`登录失败：${(e as Error).message}`, `Sign-in failed: ${(e as Error).message}`),
        );
      });
  }, []);
  const go = async () => {
    if (!oauth) return;
    setBusy(true);
    try {
      location.assign(await authorizeUrl(oauth, props.role, location.origin, sessionStorage));
    } catch (e) {
      setBusy(false);
      setError(tr(`无法打开登录页：${(e as Error).message}`, `Cannot open the sign-in page: ${(e as Error).message}`));
    }
  };
  return h(
    'div',
    null,
    error ? h(Notice, { kind: 'error' }, error) : null,
    h(
      'button',
      { type: 'button', class: 'primary', id: 'hosted-signin', disabled: busy, onClick: () => void go() },
      busy ? tr('登录中…', 'Signing in…') : tr('统一身份认证登录', 'Sign in with the staff account'),
    ),
  );
}

export function SignIn(props: { role: StaffRole; onSignedIn: (c: Credential) => void; message?: string }) {
  const [config, setConfig] = useState<PagesConfig | undefined>();
  const [value, setValue] = useState('');
  useEffect(() => {
    void pagesConfig().then(setConfig);
  }, []);
  const mode = config?.auth.mode ?? 'apikey';
  const [zh, en] = ROLE_TITLES[props.role];
  /** The page around the sign-in card (a `div`, or the `form` of a key or token), its title and message first. */
  const page = (card: 'div' | 'form', cardProps: Record<string, unknown>, ...children: ComponentChildren[]) =>
    h(
      'div',
      { class: 'page signin-page' },
      h(Header, { title: tr('12345 一网统管', '12345 City Service') }),
      h(
        'main',
        { class: 'signin' },
        h(
          card,
          { class: 'card', ...cardProps },
          h('h2', null, tr(zh, en)),
          props.message ? h(Notice, { kind: 'error' }, props.message) : null,
          ...children,
        ),
      ),
    );
  if (config && mode === 'oauth') {
    return page('div', {}, h(HostedSignIn, { role: props.role, config, onSignedIn: props.onSignedIn }));
  }
  return page(
    'form',
    {
      onSubmit: (ev: Event) => {
        ev.preventDefault();
        if (value.trim()) props.onSignedIn(makeCredential(mode === 'apikey' ? 'apikey' : 'bearer', value));
      },
    },
    h(
      Field,
      {
        label: mode === 'apikey' ? tr('访问密钥', 'Access key') : tr('登录令牌 (JWT)', 'Sign-in token (JWT)'),
        hint:
          mode === 'apikey'
            ? tr(
                `本地运行时使用 config/local-keys.json 中的密钥，例如 ${LOCAL_KEY_EXAMPLE[props.role]}`,
                `Locally, a key from config/local-keys.json, e.g. ${LOCAL_KEY_EXAMPLE[props.role]}`,
              )
            : tr('由统一身份认证登录后获得', 'Issued by the staff sign-in page'),
      },
      h('input', {
        name: 'credential',
        type: 'password',
        autocomplete: 'off',
        required: true,
        autoFocus: true,
        value,
        onInput: (e: Event) => setValue((e.target as HTMLInputElement).value),
      }),
    ),
    mode === 'bearer' && config?.auth.signInUrl
      ? h('p', null, h('a', { href: config.auth.signInUrl }, tr('前往统一身份认证登录', 'Go to staff sign-in')))
      : null,
    h('button', { type: 'submit', class: 'primary' }, tr('登录', 'Sign in')),
  );
}

/** Wraps a console: shows the sign-in until there is a credential. */
export function StaffGate(props: {
  role: StaffRole;
  staff: ReturnType<typeof useStaff>;
  children: (c: Credential) => ComponentChildren;
}) {
  if (!props.staff.credential) {
    return h(SignIn, { role: props.role, onSignedIn: (c) => props.staff.signIn(c) });
  }
  return h('div', { class: 'staff' }, props.children(props.staff.credential));
}

/** What a console page gets once signed in: the credential, the check of an API error (401), and sign-out. */
export interface StaffPageProps {
  credential: Credential;
  onAuthError: (e: unknown) => void;
  onSignOut: () => void;
}

/** The app of a console: the sign-in until there is a credential, then the page (`mount(staffApp(role, Page))`). */
export function staffApp(role: StaffRole, Page: FunctionComponent<StaffPageProps>): FunctionComponent {
  return function App() {
    const staff = useStaff(role);
    return h(StaffGate, {
      role,
      staff,
      children: (credential) =>
        h(Page, { credential, onAuthError: (e) => staff.check(e), onSignOut: () => staff.signOut() }),
    });
  };
}

export interface TabItem<T extends string> {
  id: T;
  label: string;
  /** Shown after the label as a badge (the cases in that tab). */
  count?: number;
  /** There are more than `count` (not all loaded yet): the badge reads `count+`. */
  countMore?: boolean;
}

/**
 * A tab bar (`role=tablist`): one button a tab, with the id `tab-<id>` its panel names in `aria-labelledby`.
 * `panel`: the id of the panel the tabs show (one for all, or one a tab), said in `aria-controls`. `arrowKeys`: only
 * the selected tab is in the tab order, and ←/→ select and focus the previous/next tab.
 */
export function Tabs<T extends string>(props: {
  label: string;
  tabs: TabItem<T>[];
  selected: T;
  onSelect: (id: T) => void;
  panel?: string | ((id: T) => string);
  arrowKeys?: boolean;
}) {
  const { tabs, selected, onSelect, panel, arrowKeys } = props;
  const step = (by: number) => {
    const at = tabs.findIndex((t) => t.id === selected);
    const next = tabs[(at + by + tabs.length) % tabs.length];
    if (!next) return;
    onSelect(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return h(
    'nav',
    { class: 'tabs', role: 'tablist', 'aria-label': props.label },
    tabs.map((t) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `tab-${t.id}`,
          'aria-selected': selected === t.id,
          ...(panel === undefined ? {} : { 'aria-controls': typeof panel === 'string' ? panel : panel(t.id) }),
          ...(arrowKeys
            ? {
                tabIndex: selected === t.id ? 0 : -1,
                onKeyDown: (e: KeyboardEvent) => {
                  if (e.key === 'ArrowRight') step(1);
                  else if (e.key === 'ArrowLeft') step(-1);
                },
              }
            : {}),
          onClick: () => onSelect(t.id),
        },
        t.label,
        t.count === undefined ? null : h('span', { class: 'count' }, `${t.count}${t.countMore ? '+' : ''}`),
      ),
    ),
  );
}

/** "加载更多": the next page of a list that says it goes on, `page` cases at a time (disabled while it loads). */
export function LoadMore(props: { id: string; page: number; loading: boolean; onClick: () => void }) {
  return h(
    'p',
    { class: 'more' },
    h(
      'button',
      { type: 'button', class: 'secondary', id: props.id, disabled: props.loading, onClick: props.onClick },
      props.loading
        ? tr('载入中…', 'Loading…')
        : tr(`加载更多（每次 ${props.page} 件）`, `Load more (${props.page} at a time)`),
    ),
  );
}

export function SignOut(props: { onClick: () => void }) {
  return h('button', { type: 'button', class: 'link', onClick: props.onClick }, tr('退出', 'Sign out'));
}

/** A text that may be long or odd: always text, wrapped anywhere, line breaks kept. */
export function Text(props: { children?: ComponentChildren; class?: string }) {
  return h('p', { class: `usertext ${props.class ?? ''}` }, props.children ?? '');
}
