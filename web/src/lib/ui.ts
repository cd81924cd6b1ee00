/** Pieces every page shares: mounting, the header with the language switch, fields, notices, staff sign-in. */
import { type ComponentChildren, type FunctionComponent, h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import {
  type Credential,
  clearCredential,
  getCredential,
  makeCredential,
  type PagesConfig,
  pagesConfig,
  type StaffRole,
  setCredential,
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

/**
 * The credential of a console: signs in when there is none, and signs out on 401 (`onAuthError`). With an API key
 * (local stack) or a bearer token (AWS: the JWT from the city's sign-in page, `signInUrl` in /config.json).
 */
export function useStaff(role: StaffRole) {
  const [credential, setCred] = useState<Credential | undefined>(() => getCredential(role));
  return {
    credential,
    signIn(c: Credential) {
      setCredential(role, c);
      setCred(c);
    },
    signOut() {
      clearCredential(role);
      setCred(undefined);
    },
    /** Call with any API error: a 401 signs out (the key or token is not accepted). */
    check(e: unknown) {
      if (e instanceof ApiError && e.status === 401) {
        clearCredential(role);
        setCred(undefined);
      }
    },
  };
}

export function SignIn(props: { role: StaffRole; onSignedIn: (c: Credential) => void; message?: string }) {
  const [config, setConfig] = useState<PagesConfig | undefined>();
  const [value, setValue] = useState('');
  useEffect(() => {
    void pagesConfig().then(setConfig);
  }, []);
  const mode = config?.auth.mode ?? 'apikey';
  const [zh, en] = ROLE_TITLES[props.role];
  return h(
    'div',
    { class: 'page signin-page' },
    h(Header, { title: tr('12345 一网统管', '12345 City Service') }),
    h(
      'main',
      { class: 'signin' },
      h(
        'form',
        {
          class: 'card',
          onSubmit: (ev: Event) => {
            ev.preventDefault();
            if (value.trim()) props.onSignedIn(makeCredential(mode, value));
          },
        },
        h('h2', null, tr(zh, en)),
        props.message ? h(Notice, { kind: 'error' }, props.message) : null,
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
      ),
    ),
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

export function SignOut(props: { onClick: () => void }) {
  return h('button', { type: 'button', class: 'link', onClick: props.onClick }, tr('退出', 'Sign out'));
}

/** A text that may be long or odd: always text, wrapped anywhere, line breaks kept. */
export function Text(props: { children?: ComponentChildren; class?: string }) {
  return h('p', { class: `usertext ${props.class ?? ''}` }, props.children ?? '');
}
