/**
 * 照片 on the citizen form: pick up to `MAX_PHOTOS` images, each checked here (type by its first bytes, size) before
 * it is sent, previewed, removable. Each photo is uploaded as soon as it is picked, in the mini-program's two steps:
 * `POST /api/uploads/upload-url` hands out a slot (on AWS a pre-signed S3 PUT, locally an API route), the bytes go
 * there, and the form submits the slots' `storageKey`s. The server checks again what storage really holds.
 */
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, call, errorText } from '../lib/api.ts';
import { tr } from '../lib/i18n.ts';

export const MAX_PHOTOS = 6;
export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
type PhotoType = (typeof TYPES)[number];

export interface Photo {
  id: string;
  name: string;
  size: number;
  preview: string;
  status: 'uploading' | 'done' | 'error';
  storageKey?: string;
  error?: string;
}

interface Slot {
  uploadUrl: string;
  method: 'PUT' | 'POST';
  headers: Record<string, string>;
  storageKey: string;
}

/** The image type from the first bytes (what the server checks too), never from the file name. */
export function sniffType(b: Uint8Array): PhotoType | undefined {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** Why a file cannot be taken, or undefined when it can. */
export function photoProblem(size: number, type: string | undefined): string | undefined {
  if (!type) return tr('只能上传 JPG、PNG、WebP 图片', 'Only JPG, PNG or WebP images');
  if (size < 1) return tr('文件是空的', 'The file is empty');
  if (size > MAX_PHOTO_BYTES) return tr('单张照片不能超过 4 MB', 'Each photo must be 4 MB or less');
  return undefined;
}

async function upload(file: File, type: PhotoType): Promise<string> {
  const slot = await call<Slot>('POST', '/api/uploads/upload-url', { body: { contentType: type, size: file.size } });
  let res: Response;
  try {
    res = await fetch(slot.uploadUrl, { method: slot.method, headers: slot.headers, body: file });
  } catch {
    throw new ApiError(0, 'NETWORK', tr('照片上传失败，请重试', 'Upload failed, try again'));
  }
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, tr('照片上传失败', 'Upload failed'));
  return slot.storageKey;
}

let counter = 0;

export function PhotoPicker(props: { photos: Photo[]; onChange: (update: (cur: Photo[]) => Photo[]) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const live = useRef(props.photos);
  live.current = props.photos;
  // Previews are object URLs: released when the picker goes away.
  useEffect(
    () => () => {
      for (const p of live.current) if (p.preview) URL.revokeObjectURL(p.preview);
    },
    [],
  );

  const patch = (id: string, change: Partial<Photo>) =>
    props.onChange((cur) => cur.map((p) => (p.id === id ? { ...p, ...change } : p)));

  const add = async (files: FileList | null) => {
    const list: File[] = files ? Array.from(files) : [];
    if (input.current) input.current.value = '';
    const room = MAX_PHOTOS - live.current.length;
    for (const [i, file] of list.entries()) {
      const id = `p${++counter}`;
      const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
      const type = sniffType(head);
      const problem =
        i >= room ? tr(`最多 ${MAX_PHOTOS} 张照片`, `At most ${MAX_PHOTOS} photos`) : photoProblem(file.size, type);
      if (problem) {
        props.onChange((cur) => [
          ...cur.filter((p) => p.status !== 'error'),
          { id, name: file.name, size: file.size, preview: '', status: 'error', error: `${file.name}：${problem}` },
        ]);
        continue;
      }
      const photo: Photo = {
        id,
        name: file.name,
        size: file.size,
        preview: URL.createObjectURL(file),
        status: 'uploading',
      };
      props.onChange((cur) => [...cur.filter((p) => p.status !== 'error'), photo]);
      upload(file, type as PhotoType).then(
        (storageKey) => patch(id, { status: 'done', storageKey }),
        (e) => patch(id, { status: 'error', error: `${file.name}：${errorText(e)}` }),
      );
    }
  };

  const remove = (p: Photo) => {
    if (p.preview) URL.revokeObjectURL(p.preview);
    props.onChange((cur) => cur.filter((x) => x.id !== p.id));
  };

  const kept = props.photos.filter((p) => p.status !== 'error' || p.preview);
  const errors = props.photos.filter((p) => p.status === 'error');
  return h(
    'div',
    { class: 'field photos', id: 'photos' },
    h(
      'span',
      { class: 'label' },
      tr(`照片（可不传，最多 ${MAX_PHOTOS} 张）`, `Photos (optional, up to ${MAX_PHOTOS})`),
    ),
    kept.length > 0
      ? h(
          'ul',
          { class: 'thumbs' },
          kept.map((p) =>
            h(
              'li',
              { class: `thumb ${p.status}`, 'data-status': p.status },
              p.preview ? h('img', { src: p.preview, alt: p.name }) : null,
              h(
                'span',
                { class: 'thumb-state' },
                p.status === 'uploading'
                  ? tr('上传中…', 'Uploading…')
                  : p.status === 'done'
                    ? tr('已上传', 'Uploaded')
                    : tr('失败', 'Failed'),
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'link remove',
                  onClick: () => remove(p),
                  'aria-label': tr(`删除照片 ${p.name}`, `Remove photo ${p.name}`),
                },
                tr('删除', 'Remove'),
              ),
            ),
          ),
        )
      : null,
    errors.map((p) => h('p', { class: 'hint error', role: 'alert' }, p.error ?? '')),
    kept.length < MAX_PHOTOS
      ? h(
          'label',
          { class: 'button secondary small', for: 'photo-input' },
          tr('添加照片', 'Add photos'),
          h('input', {
            id: 'photo-input',
            ref: input,
            type: 'file',
            accept: TYPES.join(','),
            multiple: true,
            class: 'visually-hidden',
            onChange: (e: Event) => void add((e.target as HTMLInputElement).files),
          }),
        )
      : null,
    h('small', { class: 'hint' }, tr('JPG、PNG、WebP，每张不超过 4 MB', 'JPG, PNG or WebP, 4 MB each at most')),
  );
}
