// The citizen page: submit a request, show the tracking number, look up progress. Citizen text is always set with
// textContent, never as HTML.
const submitForm = document.getElementById('submit-form');
const submitResult = document.getElementById('submit-result');
let idempotencyKey = crypto.randomUUID();

function show(el, parts) {
  el.replaceChildren(
    ...parts.map(([text, cls]) => {
      const span = document.createElement('span');
      span.textContent = text;
      if (cls) span.className = cls;
      return span;
    }),
  );
}

submitForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(submitForm);
  const body = {
    title: f.get('title'),
    text: f.get('text'),
    citizen: { phone: f.get('phone') || undefined, name: f.get('name') || undefined, anonymous: f.get('anonymous') === 'on' || undefined },
    location: f.get('address') ? { address: f.get('address') } : undefined,
  };
  const res = await fetch('/api/requests', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (res.ok) {
    show(submitResult, [['提交成功，受理编号：'], [data.trackingNo, 'tn']]);
    idempotencyKey = crypto.randomUUID();
  } else {
    show(submitResult, [[`提交失败：${data.error?.message ?? res.status}`, 'error']]);
  }
});

const lookupForm = document.getElementById('lookup-form');
const lookupResult = document.getElementById('lookup-result');
lookupForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const tn = new FormData(lookupForm).get('trackingNo').trim();
  const res = await fetch(`/api/requests/${encodeURIComponent(tn)}`);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    show(lookupResult, [[data.error?.message ?? `查询失败 ${res.status}`, 'error']]);
    return;
  }
  const head = document.createElement('p');
  head.textContent = `${data.title} · ${data.statusLabel}${data.department ? ` · 承办单位：${data.department.name}` : ''}`;
  const list = document.createElement('ol');
  for (const h of data.history ?? []) {
    const li = document.createElement('li');
    li.textContent = `${h.at.slice(0, 16).replace('T', ' ')} ${h.stateLabel ?? ''} ${h.text ?? ''}`;
    list.append(li);
  }
  lookupResult.replaceChildren(head, list);
});
