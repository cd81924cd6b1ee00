/**
 * 现场照片 of a case for staff (department workbench, supervisor): the photos citizens sent with their reports and
 * those added on later steps, from `GET /api/cases/{caseId}/photos`. Each comes with a short-lived view link (a
 * pre-signed S3 GET on AWS, a signed API link locally); names are the citizen's and shown as text.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { CasePhoto } from '../../../core/views/staff.ts';
import { call, errorText } from './api.ts';
import type { Credential } from './auth.ts';
import { dateTime } from './format.ts';
import { tr } from './i18n.ts';

export function CasePhotos(props: { caseId: string; version: number; credential: Credential; id?: string }) {
  const [photos, setPhotos] = useState<CasePhoto[]>();
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    call<{ photos: CasePhoto[] }>('GET', `/api/cases/${encodeURIComponent(props.caseId)}/photos`, {
      credential: props.credential,
    })
      .then((r) => {
        if (!live) return;
        setPhotos(r.photos);
        setError('');
      })
      .catch((e) => {
        if (!live) return;
        setPhotos(undefined);
        setError(errorText(e));
      });
    return () => {
      live = false;
    };
  }, [props.caseId, props.version]);
  const id = props.id ? { id: props.id } : {};
  if (error) return h('p', { class: 'muted', ...id }, tr(`照片暂不可用：${error}`, `Photos unavailable: ${error}`));
  if (!photos || photos.length === 0) return null;
  return h(
    'section',
    { ...id, class: 'case-photos', 'aria-label': tr('现场照片', 'Photos') },
    h('h3', null, tr(`现场照片（${photos.length}）`, `Photos (${photos.length})`)),
    h(
      'ul',
      { class: 'thumbs' },
      photos.map((p) =>
        h(
          'li',
          { class: 'thumb' },
          p.url
            ? h(
                'a',
                { href: p.url, target: '_blank', rel: 'noopener noreferrer' },
                h('img', { src: p.url, alt: p.name, loading: 'lazy', class: 'case-photo' }),
              )
            : h('span', { class: 'muted' }, p.name),
          h(
            'small',
            { class: 'muted usertext' },
            `${p.source === 'report' ? tr('市民上传', 'from the citizen') : tr('办理附件', 'added on a step')} · ${dateTime(p.at)}`,
          ),
        ),
      ),
    ),
  );
}
