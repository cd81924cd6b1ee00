/**
 * Which attachments a citizen's mail may bring into a case: photos, PDF and office documents, a bounded number of a
 * bounded size. The declared type is not trusted: the first bytes must agree with an allowed type (a phone that calls
 * a PNG `image/jpeg` is corrected; an executable called `photo.jpg` is refused).
 */

export const DEFAULT_ALLOWED_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/bmp',
  'image/tiff',
  'image/heic',
  'image/heif',
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'text/plain',
];

const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jpe: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  txt: 'text/plain',
};

const EXTENSION_OF: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/tiff': 'tif',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'application/pdf': 'pdf',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'text/plain': 'txt',
};

/** What the first bytes say, for the types that have a signature. */
export function sniffType(bytes: Uint8Array): string | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (b(0) === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (ascii(0, 4) === 'GIF8') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 2) === 'BM') return 'image/bmp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'image/tiff';
  if (ascii(4, 8) === 'ftyp' && /^(?:heic|heix|hevc|hevx|heim|heis)$/.test(ascii(8, 12))) return 'image/heic';
  if (ascii(4, 8) === 'ftyp' && /^(?:mif1|msf1)$/.test(ascii(8, 12))) return 'image/heif';
  if (ascii(0, 5) === '%PDF-') return 'application/pdf';
  if (ascii(0, 4) === 'PK\x03\x04') return 'application/zip';
  if (b(0) === 0xd0 && b(1) === 0xcf && b(2) === 0x11 && b(3) === 0xe0) return 'application/x-ole-storage';
  return undefined;
}

const OOXML = /^application\/vnd\.openxmlformats-officedocument\./;
const OLE = /^application\/(?:msword|vnd\.ms-excel|vnd\.ms-powerpoint)$/;

/** The type the bytes support, given the declared type; undefined when they contradict every allowed type. */
function confirmType(declared: string, bytes: Uint8Array, allowed: ReadonlySet<string>): string | undefined {
  const sniffed = sniffType(bytes);
  if (declared === 'text/plain') return sniffed === undefined ? declared : undefined;
  if (sniffed === 'application/zip') return OOXML.test(declared) ? declared : undefined;
  if (sniffed === 'application/x-ole-storage') return OLE.test(declared) ? declared : undefined;
  if (sniffed === undefined) return undefined;
  if (sniffed === declared) return declared;
  // heic/heif brands overlap
  if (sniffed.startsWith('image/hei') && declared.startsWith('image/hei')) return declared;
  // a photo under the wrong image type is still the photo
  return sniffed.startsWith('image/') && declared.startsWith('image/') && allowed.has(sniffed) ? sniffed : undefined;
}

export function typeFromName(name: string | undefined): string | undefined {
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(name ?? '')?.[1]?.toLowerCase();
  return ext ? BY_EXTENSION[ext] : undefined;
}

/** A display name safe to show and store: no path, no control characters, at most 255 chars, extension kept. */
export function safeFileName(name: string | undefined, type: string, index: number): string {
  let n = (name ?? '')
    .replace(/^.*[\\/]/, '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters have no place in a file name.
    .replace(/[\u0000-\u001f\u007f"<>|*?:]/g, '_')
    .trim();
  if (!n || n.includes('\ufffd') || /^\.+$/.test(n)) {
    const ext = EXTENSION_OF[type] ?? typeFromName(name ?? '') ?? 'bin';
    const fromName = /\.([A-Za-z0-9]{1,5})$/.exec(name ?? '')?.[1];
    n = `附件${index + 1}.${fromName ?? ext}`;
  }
  if (n.length > 255) {
    const ext = /\.[A-Za-z0-9]{1,5}$/.exec(n)?.[0] ?? '';
    n = n.slice(0, 255 - ext.length) + ext;
  }
  return n;
}

export type RejectReason = 'TYPE_NOT_ALLOWED' | 'CONTENT_MISMATCH' | 'TOO_LARGE' | 'TOO_MANY' | 'EMPTY';

export interface AttachmentPolicy {
  allowedTypes: ReadonlySet<string>;
  maxBytes: number;
  maxCount: number;
}

export interface AttachmentCandidate {
  name?: string;
  contentType: string;
  size: number;
  /** Undefined when the bytes were not kept (over the size limit, or a type we refuse anyway). */
  content?: Buffer;
}

export type AttachmentVerdict =
  | { ok: true; name: string; contentType: string }
  | { ok: false; name: string; reason: RejectReason };

/**
 * Judges one attachment. `accepted` is how many were accepted before it (the count limit applies in order).
 */
export function judgeAttachment(
  a: AttachmentCandidate,
  index: number,
  accepted: number,
  policy: AttachmentPolicy,
): AttachmentVerdict {
  const declared = normalizeType(a.contentType, a.name);
  const name = safeFileName(a.name, declared, index);
  if (!policy.allowedTypes.has(declared)) return { ok: false, name, reason: 'TYPE_NOT_ALLOWED' };
  if (a.size > policy.maxBytes) return { ok: false, name, reason: 'TOO_LARGE' };
  if (a.size === 0 || !a.content) return { ok: false, name, reason: 'EMPTY' };
  const confirmed = confirmType(declared, a.content, policy.allowedTypes);
  if (!confirmed) return { ok: false, name, reason: 'CONTENT_MISMATCH' };
  if (accepted >= policy.maxCount) return { ok: false, name, reason: 'TOO_MANY' };
  return { ok: true, name, contentType: confirmed };
}

/** Lower-cased media type without parameters; a generic type is refined from the file name. */
export function normalizeType(contentType: unknown, name: string | undefined): string {
  const t =
    (typeof contentType === 'string' ? contentType : '').split(/[;\s]/)[0]?.trim().toLowerCase() ||
    'application/octet-stream';
  if (t === 'application/octet-stream' || t === 'application/x-unknown' || t === 'binary/octet-stream') {
    return typeFromName(name) ?? t;
  }
  if (t === 'image/jpg' || t === 'image/pjpeg') return 'image/jpeg';
  if (t === 'image/x-png') return 'image/png';
  return t;
}
