/**
 * 市民诉求 (`/`): submit a request with category help, place and contact; see the tracking number; follow it with the
 * tracking number (+ the phone's last 4 digits for the words and the follow-up); answer the 回访 (满意度).
 * A notice link `/?tn=<no>&token=<t>` opens the request straight away with the token as proof.
 */
import '../styles.css';
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { CitizenHistoryEntry, CitizenView } from '../../../core/views/citizen.ts';
import { call, errorText } from '../lib/api.ts';
import { dateTime } from '../lib/format.ts';
import { lang, natureName, satisfactionName, tr } from '../lib/i18n.ts';
import { type Catalog, type CategoryHint, catalog, suggestCategories } from '../lib/taxonomy.ts';
import { Badge, Field, Header, mount, Notice, type TabItem, Tabs, Text } from '../lib/ui.ts';
import { type Photo, PhotoPicker } from './photos.ts';

const NATURES = ['咨询', '求助', '投诉', '举报', '建议'] as const;
const SATISFACTION = ['满意', '基本满意', '不满意'] as const;

interface Submitted {
  trackingNo: string;
  duplicate: boolean;
  message: string;
}

const STATUS_EN: Record<string, string> = {
  received: 'Received',
  rejected: 'Not accepted',
  dispatched: 'Dispatched',
  processing: 'In progress',
  followUp: 'Awaiting your feedback',
  closed: 'Closed',
  answered: 'Answered',
};

/** Public statuses in which the citizen may still add information or rate. */
const ACTIVE = new Set(['received', 'dispatched', 'processing', 'followUp']);

const statusText = (v: { status: string; statusLabel: string }) =>
  lang() === 'en' ? (STATUS_EN[v.status] ?? v.statusLabel) : v.statusLabel;

const STATUS_TONE: Record<string, string> = {
  closed: 'ok',
  answered: 'ok',
  followUp: 'warn',
  rejected: 'late',
};

function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const MINE_KEY = 'cityloop.mine';

/** Tracking numbers filed from this device (numbers and titles only: no contact details are kept). */
function readMine(): { trackingNo: string; title: string }[] {
  try {
    const v = JSON.parse(localStorage.getItem(MINE_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as { trackingNo: string; title: string }[]).slice(0, 10) : [];
  } catch {
    return [];
  }
}

function remember(trackingNo: string, title: string): void {
  try {
    const list = [{ trackingNo, title }, ...readMine().filter((m) => m.trackingNo !== trackingNo)].slice(0, 10);
    localStorage.setItem(MINE_KEY, JSON.stringify(list));
  } catch {
    // Not kept on this device.
  }
}

const value = (e: Event) => (e.target as HTMLInputElement).value;

function useCatalog(): Catalog | undefined {
  const [cat, setCat] = useState<Catalog>();
  useEffect(() => {
    catalog()
      .then(setCat)
      .catch(() => undefined);
  }, []);
  return cat;
}

function CategorySelect(props: { cat: Catalog | undefined; value: string; onChange: (v: string) => void }) {
  const groups = useMemo(() => {
    const cat = props.cat;
    if (!cat) return [];
    const tops = cat.categories.filter((c) => !c.parent);
    return tops
      .map((t) => ({ top: t, leaves: cat.leaves.filter((l) => l.parent === t.code) }))
      .filter((g) => g.leaves.length > 0);
  }, [props.cat]);
  return h(
    'select',
    { id: 'category', name: 'category', value: props.value, onChange: (e: Event) => props.onChange(value(e)) },
    h('option', { value: '' }, tr('不确定（由 12345 分拨）', 'Not sure (12345 will decide)')),
    groups.map((g) =>
      h(
        'optgroup',
        { label: g.top.name },
        g.leaves.map((l) => h('option', { value: l.code }, l.name)),
      ),
    ),
  );
}

function SubmitForm(props: { onSubmitted: (s: Submitted, title: string) => void }) {
  const cat = useCatalog();
  const [f, setF] = useState({
    title: '',
    text: '',
    category: '',
    nature: '',
    address: '',
    phone: '',
    name: '',
    anonymous: false,
  });
  const [coords, setCoords] = useState<{ lat: number; lon: number; accuracy: number }>();
  const [locating, setLocating] = useState(false);
  const [locError, setLocError] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [hints, setHints] = useState<CategoryHint[]>([]);
  const [photos, setPhotos] = useState<Photo[]>([]);
  const key = useRef(newKey());
  const set = (k: keyof typeof f) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setF({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };

  // Category help while typing: the same keyword rules as triage, in the browser, debounced.
  useEffect(() => {
    if (!cat) return;
    if (!(f.title + f.text).trim()) {
      setHints([]);
      return;
    }
    const id = setTimeout(() => setHints(suggestCategories(cat, f.title, f.text)), 250);
    return () => clearTimeout(id);
  }, [cat, f.title, f.text]);

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setLocError(tr('此设备不支持定位，请填写地址', 'This device cannot share its location: type the address'));
      return;
    }
    setLocating(true);
    setLocError('');
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLocating(false);
        setCoords({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) });
      },
      (err) => {
        setLocating(false);
        setLocError(
          err.code === err.PERMISSION_DENIED
            ? tr('未获得定位权限，请填写地址', 'Location permission denied: type the address')
            : tr('暂时无法定位，请填写地址', 'Location unavailable: type the address'),
        );
      },
      { enableHighAccuracy: true, timeout: 10_000, maximumAge: 60_000 },
    );
  };

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    if (!f.text.trim()) {
      setError(tr('请填写诉求内容', 'Please describe the problem'));
      document.getElementById('text')?.focus();
      return;
    }
    if (!f.anonymous && !f.phone.trim()) {
      setError(
        tr(
          '请填写手机号码（用于回复办理结果），或选择匿名反映',
          'Give a phone number for the reply, or report anonymously',
        ),
      );
      document.getElementById('phone')?.focus();
      return;
    }
    if (photos.some((p) => p.status === 'uploading')) {
      setError(tr('照片还在上传，请稍候再提交', 'Photos are still uploading: submit in a moment'));
      return;
    }
    const uploaded = photos.filter((p) => p.status === 'done' && p.storageKey);
    setBusy(true);
    try {
      const location: Record<string, unknown> = {};
      if (f.address.trim()) location.address = f.address.trim();
      if (coords) Object.assign(location, { lat: coords.lat, lon: coords.lon, datum: 'WGS84' });
      const body = {
        ...(f.title.trim() ? { title: f.title.trim() } : {}),
        text: f.text,
        ...(f.category ? { category: f.category } : {}),
        ...(f.nature ? { nature: f.nature } : {}),
        ...(Object.keys(location).length ? { location } : {}),
        citizen: f.anonymous
          ? { anonymous: true, ...(f.phone.trim() ? { phone: f.phone.trim() } : {}) }
          : { phone: f.phone.trim(), ...(f.name.trim() ? { name: f.name.trim() } : {}) },
        language: lang() === 'en' ? 'en' : 'zh-CN',
        ...(uploaded.length ? { photos: uploaded.map((p) => ({ storageKey: p.storageKey, name: p.name })) } : {}),
      };
      const res = await call<Submitted>('POST', '/api/requests', {
        body,
        headers: { 'idempotency-key': key.current },
      });
      key.current = newKey();
      props.onSubmitted(res, f.title.trim() || f.text.trim().slice(0, 30));
      setF({ ...f, title: '', text: '', category: '', nature: '', address: '' });
      setCoords(undefined);
      for (const p of photos) if (p.preview) URL.revokeObjectURL(p.preview);
      setPhotos([]);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const chosen = f.category ? cat?.byCode.get(f.category) : undefined;
  return h(
    'form',
    { class: 'card', id: 'submit-form', onSubmit: submit, noValidate: true, 'aria-labelledby': 'submit-h' },
    h('h2', { id: 'submit-h' }, tr('反映问题', 'Report a problem')),
    h(
      Field,
      { label: tr('诉求内容（必填）', 'What is the problem? (required)') },
      h('textarea', {
        id: 'text',
        name: 'text',
        rows: 5,
        maxLength: 4000,
        required: true,
        value: f.text,
        onInput: set('text'),
        placeholder: tr('请描述时间、地点、问题和您的诉求', 'When, where, what happened, and what you ask for'),
      }),
    ),
    hints.length > 0
      ? h(
          'div',
          { class: 'hints', role: 'group', 'aria-label': tr('可能的事项类别', 'Likely categories') },
          h('span', { class: 'label' }, tr('可能是：', 'Perhaps: ')),
          hints.map((c) =>
            h(
              'button',
              {
                type: 'button',
                class: `chip ${f.category === c.code ? 'on' : ''}`,
                'aria-pressed': f.category === c.code,
                onClick: () => setF({ ...f, category: f.category === c.code ? '' : c.code }),
              },
              c.parentName ? `${c.name} · ${c.parentName}` : c.name,
            ),
          ),
        )
      : null,
    h(
      'div',
      { class: 'row2' },
      h(
        Field,
        {
          label: tr('事项类别', 'Category'),
          hint: chosen?.department
            ? tr(
                `承办：${cat?.departmentName(chosen.department) ?? ''}`,
                `Handled by: ${cat?.departmentName(chosen.department) ?? ''}`,
              )
            : undefined,
        },
        h(CategorySelect, { cat, value: f.category, onChange: (v) => setF({ ...f, category: v }) }),
      ),
      h(
        Field,
        { label: tr('诉求性质', 'Kind') },
        h(
          'select',
          { name: 'nature', value: f.nature, onChange: set('nature') },
          h('option', { value: '' }, tr('不确定', 'Not sure')),
          NATURES.map((n) => h('option', { value: n }, natureName(n))),
        ),
      ),
    ),
    h(
      Field,
      { label: tr('标题（可不填）', 'Title (optional)') },
      h('input', {
        name: 'title',
        maxLength: 100,
        value: f.title,
        onInput: set('title'),
        placeholder: tr('例如：路灯不亮', 'e.g. Street light out'),
      }),
    ),
    h(
      'fieldset',
      { class: 'place' },
      h('legend', null, tr('地点', 'Place')),
      h(
        Field,
        { label: tr('地址', 'Address') },
        h('input', {
          name: 'address',
          maxLength: 200,
          value: f.address,
          onInput: set('address'),
          autocomplete: 'street-address',
          placeholder: tr('例如：坪山街道和平路88号', 'e.g. 88 Heping Road, Pingshan'),
        }),
      ),
      h(
        'div',
        { class: 'locate' },
        h(
          'button',
          { type: 'button', class: 'secondary', onClick: locate, disabled: locating },
          locating ? tr('定位中…', 'Locating…') : tr('使用我的位置', 'Use my location'),
        ),
        coords
          ? h(
              'span',
              { role: 'status' },
              tr(
                `已定位 ${coords.lat.toFixed(5)}, ${coords.lon.toFixed(5)}（约 ${coords.accuracy} 米）`,
                `Located ${coords.lat.toFixed(5)}, ${coords.lon.toFixed(5)} (±${coords.accuracy} m)`,
              ),
              ' ',
              h('button', { type: 'button', class: 'link', onClick: () => setCoords(undefined) }, tr('清除', 'Clear')),
            )
          : null,
        locError ? h('span', { class: 'error-text', role: 'alert' }, locError) : null,
      ),
      h(
        'small',
        { class: 'hint' },
        tr(
          '暂不提供地图选点：请填写地址，或使用手机定位。如需提交照片，请使用 12345 微信小程序。',
          'No map picker yet: type the address or share your location. To send photos, use the 12345 WeChat mini-program.',
        ),
      ),
    ),
    h(
      'fieldset',
      { class: 'contact' },
      h('legend', null, tr('联系方式', 'Contact')),
      h(
        'div',
        { class: 'row2' },
        h(
          Field,
          {
            label: tr('手机号码', 'Mobile phone'),
            hint: tr('用于回复办理结果和回访', 'For the reply and the follow-up call'),
          },
          h('input', {
            id: 'phone',
            name: 'phone',
            type: 'tel',
            inputMode: 'tel',
            autocomplete: 'tel',
            maxLength: 20,
            value: f.phone,
            onInput: set('phone'),
          }),
        ),
        h(
          Field,
          { label: tr('姓名（可不填）', 'Name (optional)') },
          h('input', { name: 'name', maxLength: 50, autocomplete: 'name', value: f.name, onInput: set('name') }),
        ),
      ),
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', name: 'anonymous', checked: f.anonymous, onChange: set('anonymous') }),
        tr(' 匿名反映（将无法回访您）', ' Report anonymously (we cannot call you back)'),
      ),
    ),
    h(PhotoPicker, { photos, onChange: (update) => setPhotos(update) }),
    error ? h(Notice, { kind: 'error' }, error) : null,
    h(
      'button',
      { type: 'submit', class: 'primary wide', disabled: busy },
      busy ? tr('提交中…', 'Sending…') : tr('提交诉求', 'Submit'),
    ),
  );
}

function Receipt(props: { s: Submitted; onTrack: () => void }) {
  return h(
    'section',
    { class: 'card receipt', 'aria-live': 'polite', id: 'receipt' },
    h('h2', null, props.s.duplicate ? tr('已收到（重复提交）', 'Already received') : tr('提交成功', 'Submitted')),
    h('p', null, tr('受理编号', 'Tracking number')),
    h('p', { class: 'tn', id: 'tracking-no' }, props.s.trackingNo),
    h(
      'p',
      { class: 'muted' },
      tr(
        '请记下受理编号，可凭编号和手机号后四位查询办理进度。',
        'Keep this number: with it and the last 4 digits of your phone you can follow your request.',
      ),
    ),
    h('button', { type: 'button', class: 'secondary', onClick: props.onTrack }, tr('查询进度', 'Track it')),
  );
}

function HistoryList(props: { entries: CitizenHistoryEntry[] }) {
  return h(
    'ol',
    { class: 'timeline' },
    props.entries.map((e) =>
      h(
        'li',
        null,
        h('time', { dateTime: e.at }, dateTime(e.at)),
        h(
          'div',
          null,
          h('strong', null, e.label),
          ' ',
          h('span', { class: 'muted' }, `${e.by}${e.department ? ` · ${e.department.name}` : ''}`),
          e.dueAt
            ? h('div', { class: 'muted' }, tr(`办理时限 ${dateTime(e.dueAt)}`, `Due ${dateTime(e.dueAt)}`))
            : null,
          e.text ? h(Text, null, e.text) : null,
        ),
      ),
    ),
  );
}

/**
 * A step the citizen takes on their request (回访, 补充信息): sent with the proof of the notice link, the form busy
 * meanwhile; `send` gives the request as it is now, or undefined when it failed (the error is then shown).
 */
function useRequestStep(trackingNo: string, proof: { token?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const send = async (step: 'follow-up' | 'updates', body: Record<string, unknown>) => {
    setBusy(true);
    setError('');
    try {
      return await call<CitizenView>('POST', `/api/requests/${encodeURIComponent(trackingNo)}/${step}`, {
        body: { ...body, ...proof },
      });
    } catch (e) {
      setError(errorText(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, send };
}

function FollowUpForm(props: { view: CitizenView; proof: { token?: string }; onDone: (v: CitizenView) => void }) {
  const [satisfaction, setSatisfaction] = useState('');
  const [resolved, setResolved] = useState('');
  const [text, setText] = useState('');
  const { busy, error, setError, send } = useRequestStep(props.view.trackingNo, props.proof);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!satisfaction || !resolved) {
      setError(tr('请选择满意度和是否解决', 'Choose how satisfied you are and whether it was solved'));
      return;
    }
    const v = await send('follow-up', {
      satisfaction,
      resolved: resolved === 'yes',
      ...(text.trim() ? { text: text.trim() } : {}),
    });
    if (v) props.onDone(v);
  };
  return h(
    'form',
    { class: 'followup', id: 'followup-form', onSubmit: submit },
    h('h3', null, tr('办理结果评价（回访）', 'Rate the result (follow-up)')),
    h(
      'fieldset',
      null,
      h('legend', null, tr('您对办理结果是否满意？', 'Are you satisfied with the result?')),
      SATISFACTION.map((s) =>
        h(
          'label',
          { class: 'radio' },
          h('input', {
            type: 'radio',
            name: 'satisfaction',
            value: s,
            checked: satisfaction === s,
            onChange: () => setSatisfaction(s),
          }),
          ` ${satisfactionName(s)}`,
        ),
      ),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, tr('问题是否已解决？', 'Was the problem solved?')),
      h(
        'label',
        { class: 'radio' },
        h('input', {
          type: 'radio',
          name: 'resolved',
          value: 'yes',
          checked: resolved === 'yes',
          onChange: () => setResolved('yes'),
        }),
        tr(' 已解决', ' Yes'),
      ),
      h(
        'label',
        { class: 'radio' },
        h('input', {
          type: 'radio',
          name: 'resolved',
          value: 'no',
          checked: resolved === 'no',
          onChange: () => setResolved('no'),
        }),
        tr(' 未解决', ' No'),
      ),
    ),
    h(
      Field,
      { label: tr('意见（可不填）', 'Comments (optional)') },
      h('textarea', {
        name: 'comment',
        rows: 3,
        maxLength: 4000,
        value: text,
        onInput: (e: Event) => setText(value(e)),
      }),
    ),
    h(
      'small',
      { class: 'hint' },
      tr(
        '不满意或未解决时，工单将退回承办单位重办。',
        'If you are not satisfied or it is not solved, the case goes back to the department.',
      ),
    ),
    error ? h(Notice, { kind: 'error' }, error) : null,
    h('button', { type: 'submit', class: 'primary', disabled: busy }, tr('提交评价', 'Send rating')),
  );
}

function AddInfoForm(props: { view: CitizenView; proof: { token?: string }; onDone: (v: CitizenView) => void }) {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const { busy, error, send } = useRequestStep(props.view.trackingNo, props.proof);
  if (!open) {
    return h(
      'button',
      { type: 'button', class: 'secondary', onClick: () => setOpen(true) },
      tr('补充信息', 'Add information'),
    );
  }
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (!text.trim()) return;
    const v = await send('updates', { text: text.trim() });
    if (!v) return;
    setText('');
    setOpen(false);
    props.onDone(v);
  };
  return h(
    'form',
    { class: 'addinfo', onSubmit: submit },
    h(
      Field,
      { label: tr('补充信息', 'More information') },
      h('textarea', {
        rows: 3,
        maxLength: 4000,
        required: true,
        value: text,
        onInput: (e: Event) => setText(value(e)),
      }),
    ),
    error ? h(Notice, { kind: 'error' }, error) : null,
    h('button', { type: 'submit', class: 'primary', disabled: busy }, tr('提交补充', 'Send')),
  );
}

function CaseView(props: {
  view: CitizenView;
  proof: { token?: string };
  onChange: (v: CitizenView, said: string) => void;
}) {
  const v = props.view;
  return h(
    'section',
    { class: 'card result', id: 'lookup-result', 'aria-live': 'polite' },
    h(
      'div',
      { class: 'result-head' },
      h('h3', { class: 'usertext' }, v.title),
      h(Badge, { tone: STATUS_TONE[v.status] ?? 'info' }, h('span', { id: 'status' }, statusText(v))),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, tr('受理编号', 'Tracking number')),
      h('dd', null, v.trackingNo),
      h('dt', null, tr('受理时间', 'Received')),
      h('dd', null, dateTime(v.receivedAt)),
      v.department ? [h('dt', null, tr('承办单位', 'Department')), h('dd', null, v.department.name)] : null,
      v.category ? [h('dt', null, tr('事项类别', 'Category')), h('dd', null, v.category.name)] : null,
      v.dueAt ? [h('dt', null, tr('办理时限', 'Due by')), h('dd', null, dateTime(v.dueAt))] : null,
      v.reportCount
        ? [
            h('dt', null, tr('同类反映', 'Same problem reported by')),
            h('dd', null, tr(`${v.reportCount} 位市民`, `${v.reportCount} citizens`)),
          ]
        : null,
    ),
    h('h4', null, tr('办理过程', 'Progress')),
    h(HistoryList, { entries: v.history }),
    !v.verified
      ? h(
          'p',
          { class: 'muted' },
          tr('输入手机号后四位可查看办理结果详情。', 'Enter the last 4 digits of your phone to see the result.'),
        )
      : null,
    // Acting on a request takes the link of the SMS / email notice (a phone's last digits are easy to guess).
    v.verified && !props.proof.token && ACTIVE.has(v.status)
      ? h(
          'p',
          { class: 'muted', id: 'use-link' },
          v.status === 'followUp'
            ? tr(
                '请点击办结通知短信或邮件中的链接进行评价。',
                'To rate the result, open the link in the SMS or email we sent you.',
              )
            : tr(
                '如需补充信息，请点击通知短信或邮件中的链接。',
                'To add information, open the link in the SMS or email we sent you.',
              ),
        )
      : null,
    v.actions?.includes('followUp')
      ? h(FollowUpForm, {
          view: v,
          proof: props.proof,
          onDone: (nv) => props.onChange(nv, tr('感谢您的评价！', 'Thank you for your feedback!')),
        })
      : null,
    v.actions?.includes('addInformation')
      ? h(AddInfoForm, {
          view: v,
          proof: props.proof,
          onDone: (nv) => props.onChange(nv, tr('补充信息已提交', 'Your information was added')),
        })
      : null,
  );
}

function Lookup(props: { initial?: { trackingNo: string; token?: string } }) {
  const [tn, setTn] = useState(props.initial?.trackingNo ?? '');
  const [phone4, setPhone4] = useState('');
  const [token] = useState(props.initial?.token);
  const [view, setView] = useState<CitizenView>();
  const [thanks, setThanks] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // Reading takes the link's token or the phone's last 4 digits; acting (补充, 评价) takes the token.
  const proof = token ? { token } : {};

  const lookup = async (number = tn) => {
    const clean = number.replace(/\s/g, '');
    if (!/^\d{14}$/.test(clean)) {
      setError(tr('受理编号为 14 位数字', 'A tracking number has 14 digits'));
      return;
    }
    setBusy(true);
    setError('');
    try {
      const q = token ? `?token=${encodeURIComponent(token)}` : phone4 ? `?phone4=${encodeURIComponent(phone4)}` : '';
      setView(await call<CitizenView>('GET', `/api/requests/${clean}${q}`));
    } catch (e) {
      setView(undefined);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (props.initial?.trackingNo) void lookup(props.initial.trackingNo);
  }, []);

  const mine = readMine();
  return h(
    'div',
    null,
    h(
      'form',
      {
        class: 'card',
        id: 'lookup-form',
        'aria-labelledby': 'lookup-h',
        onSubmit: (ev: Event) => {
          ev.preventDefault();
          void lookup();
        },
      },
      h('h2', { id: 'lookup-h' }, tr('查询办理进度', 'Follow a request')),
      h(
        'div',
        { class: 'row2' },
        h(
          Field,
          { label: tr('受理编号', 'Tracking number') },
          h('input', {
            id: 'lookup-tn',
            name: 'trackingNo',
            inputMode: 'numeric',
            maxLength: 20,
            required: true,
            value: tn,
            onInput: (e: Event) => setTn(value(e)),
          }),
        ),
        h(
          Field,
          {
            label: tr('手机号后四位', 'Last 4 digits of your phone'),
            hint: tr('可不填：不填时只显示办理步骤', 'Optional: without it only the steps show'),
          },
          h('input', {
            id: 'lookup-phone4',
            name: 'phone4',
            inputMode: 'numeric',
            pattern: '\\d{4}',
            maxLength: 4,
            autocomplete: 'off',
            value: phone4,
            onInput: (e: Event) => setPhone4(value(e).replace(/\D/g, '')),
          }),
        ),
      ),
      error ? h(Notice, { kind: 'error' }, error) : null,
      h(
        'button',
        { type: 'submit', class: 'primary', disabled: busy },
        busy ? tr('查询中…', 'Looking up…') : tr('查询', 'Look up'),
      ),
      mine.length > 0
        ? h(
            'div',
            { class: 'mine' },
            h('span', { class: 'label' }, tr('本机提交过：', 'Filed from this device: ')),
            mine.map((m) =>
              h(
                'button',
                {
                  type: 'button',
                  class: 'chip',
                  onClick: () => {
                    setTn(m.trackingNo);
                    void lookup(m.trackingNo);
                  },
                },
                `${m.trackingNo} ${m.title.slice(0, 12)}`,
              ),
            ),
          )
        : null,
    ),
    thanks ? h(Notice, { kind: 'ok', id: 'thanks' }, thanks) : null,
    view
      ? h(CaseView, {
          view,
          proof,
          onChange: (v, said) => {
            setView(v);
            setThanks(said);
          },
        })
      : null,
  );
}

function App() {
  const params = new URLSearchParams(location.search);
  const initialTn = params.get('tn') ?? undefined;
  const initialToken = params.get('token') ?? undefined;
  const [tab, setTab] = useState<'submit' | 'lookup'>(initialTn ? 'lookup' : 'submit');
  const [submitted, setSubmitted] = useState<Submitted>();
  const [track, setTrack] = useState<{ trackingNo: string; token?: string } | undefined>(
    initialTn ? { trackingNo: initialTn, ...(initialToken ? { token: initialToken } : {}) } : undefined,
  );
  // A token in the address bar is a credential: keep it out of the history once read.
  useEffect(() => {
    if (initialToken) history.replaceState(null, '', `${location.pathname}?tn=${encodeURIComponent(initialTn ?? '')}`);
  }, []);
  const tabs: TabItem<typeof tab>[] = [
    { id: 'submit', label: tr('我要反映', 'Report') },
    { id: 'lookup', label: tr('查询进度', 'Track') },
  ];
  return h(
    'div',
    { class: 'page citizen' },
    h(Header, {
      title: tr('12345 市民诉求', '12345 Citizen Requests'),
      subtitle: tr(
        '反映问题、提出建议，我们按时办理、全程可查。',
        'Tell us about a problem; we handle it on time and you can follow every step.',
      ),
    }),
    h(Tabs<typeof tab>, {
      label: tr('功能', 'Sections'),
      tabs,
      selected: tab,
      onSelect: setTab,
      panel: (id) => `panel-${id}`,
      arrowKeys: true,
    }),
    h(
      'main',
      { id: `panel-${tab}`, role: 'tabpanel', 'aria-labelledby': `tab-${tab}` },
      tab === 'submit'
        ? [
            submitted
              ? h(Receipt, {
                  s: submitted,
                  onTrack: () => {
                    setTrack({ trackingNo: submitted.trackingNo });
                    setTab('lookup');
                  },
                })
              : null,
            h(SubmitForm, {
              onSubmitted: (s, title) => {
                remember(s.trackingNo, title);
                setSubmitted(s);
                requestAnimationFrame(() => document.getElementById('receipt')?.scrollIntoView({ block: 'start' }));
              },
            }),
          ]
        : h(Lookup, { key: track?.trackingNo ?? 'none', ...(track ? { initial: track } : {}) }),
    ),
    h('footer', { class: 'foot' }, tr('紧急情况请拨打 110 / 119 / 120。', 'In an emergency call 110 / 119 / 120.')),
  );
}

mount(App);
