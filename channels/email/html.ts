/**
 * HTML mail to plain text for the request body: tags dropped, `<script>`/`<style>`/`<head>` and comments dropped
 * with their content, block elements and `<br>` kept as line breaks, `<blockquote>` content prefixed with `> ` so
 * that the reply stripper can recognise quoted history, entities decoded. A single linear scan, no regular expression
 * over the whole document, so hostile markup cannot make it slow; nothing is ever rendered or executed.
 */

const BLOCK = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'center',
  'dd',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'tbody',
  'thead',
  'tfoot',
  'tr',
  'ul',
]);
/** Elements whose content is never text for a reader. */
const SKIP_CONTENT = new Set(['script', 'style', 'head', 'title', 'noscript', 'template', 'svg', 'object', 'iframe']);

const CJK = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]/;

const NAMED: Record<string, string> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  copy: '©',
  reg: '®',
  middot: '·',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  ldquo: '“',
  rdquo: '”',
  lsquo: '‘',
  rsquo: '’',
  laquo: '«',
  raquo: '»',
  yen: '¥',
  times: '×',
  divide: '÷',
  deg: '°',
  bull: '•',
  emsp: ' ',
  ensp: ' ',
  thinsp: ' ',
  zwj: '',
  zwnj: '',
  bdquo: '„',
  sbquo: '‚',
  euro: '€',
  pound: '£',
  cent: '¢',
  sect: '§',
  para: '¶',
  trade: '™',
  plusmn: '±',
  micro: 'µ',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  shy: '',
  iexcl: '¡',
  iquest: '¿',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  eacute: 'é',
  egrave: 'è',
  ecirc: 'ê',
  aacute: 'á',
  agrave: 'à',
  acirc: 'â',
  iacute: 'í',
  oacute: 'ó',
  uacute: 'ú',
  ccedil: 'ç',
  ntilde: 'ñ',
  Eacute: 'É',
  rarr: '→',
  larr: '←',
  uarr: '↑',
  darr: '↓',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});?/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const cp =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!Number.isFinite(cp) || cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    return NAMED[body] ?? NAMED[body.toLowerCase()] ?? whole;
  });
}

function tagName(tag: string): { name: string; closing: boolean } {
  let i = 1;
  const closing = tag[i] === '/';
  if (closing) i++;
  let name = '';
  while (i < tag.length && /[A-Za-z0-9:-]/.test(tag[i] as string)) name += tag[i++];
  return { name: name.toLowerCase(), closing };
}

/** Converts HTML to text. Line breaks are `\n`; runs of blank lines are collapsed to one. */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let line = '';
  let quoteDepth = 0;
  let preDepth = 0;
  let skip: string | undefined;
  let pendingSpace = false;

  const flush = () => {
    const text = line.replace(/[ \t]+$/, '');
    out.push(quoteDepth > 0 ? `${'> '.repeat(quoteDepth)}${text}`.trimEnd() : text);
    line = '';
    pendingSpace = false;
  };
  const newline = () => flush();
  const block = () => {
    if (line.trim()) flush();
  };
  const emit = (raw: string) => {
    const text = decodeEntities(raw);
    if (preDepth > 0) {
      const parts = text.split(/\r?\n/);
      parts.forEach((p, i) => {
        if (i > 0) newline();
        line += p;
      });
      return;
    }
    let s = text.replace(/[ \t\r\n\f]+/g, ' ');
    if (s.startsWith(' ')) {
      pendingSpace = true;
      s = s.slice(1);
    }
    const trailing = s.endsWith(' ');
    if (trailing) s = s.slice(0, -1);
    if (s) {
      // a source line break between two Chinese characters is not a space in the text
      if (pendingSpace && line !== '' && !(CJK.test(line.slice(-1)) && CJK.test(s[0] as string))) line += ' ';
      line += s;
      pendingSpace = false;
    }
    if (trailing) pendingSpace = true;
  };

  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i && !skip) emit(html.slice(i, textEnd));
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (!/[A-Za-z/!?]/.test(html[lt + 1] ?? '')) {
      // "3 < 4": a '<' that opens no tag is text
      if (!skip) emit('<');
      i = lt + 1;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) {
      // a lone '<' with no tag after it is text
      if (!skip) emit(html.slice(lt));
      break;
    }
    const tag = html.slice(lt, gt + 1);
    i = gt + 1;
    if (!/^<\/?[A-Za-z]/.test(tag)) {
      if (!skip && !tag.startsWith('<!') && !tag.startsWith('<?')) emit(tag);
      continue;
    }
    const { name, closing } = tagName(tag);
    if (skip) {
      if (closing && name === skip) skip = undefined;
      continue;
    }
    if (!closing && SKIP_CONTENT.has(name) && !tag.endsWith('/>')) {
      skip = name;
      continue;
    }
    if (name === 'br') newline();
    else if (name === 'td' || name === 'th') {
      if (!closing && line.trim()) line += '\t';
    } else if (name === 'blockquote') {
      block();
      quoteDepth = closing ? Math.max(0, quoteDepth - 1) : Math.min(quoteDepth + 1, 20);
    } else if (name === 'pre') {
      block();
      preDepth = closing ? Math.max(0, preDepth - 1) : preDepth + 1;
    } else if (name === 'li' && !closing) {
      block();
      line += '- ';
    } else if (name === 'p' || /^h[1-6]$/.test(name)) {
      block();
      if (closing) newline();
    } else if (BLOCK.has(name)) block();
  }
  if (line.trim()) flush();
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}
