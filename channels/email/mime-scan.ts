/**
 * A boundary-only pass over raw MIME that measures nesting depth and part count before the real parser sees the
 * message: parsers recurse over the part tree, so a message nested a thousand deep must be refused up front.
 * It reads only header blocks and lines that start with `--`; bodies are skipped with `indexOf`, so the pass is
 * linear in the message size. It is deliberately lenient (a boundary line may carry trailing junk), erring on the
 * side of counting a part rather than missing one.
 */

export interface MimeShape {
  /** Deepest nesting: 1 for a multipart message with plain parts, +1 per multipart or message/rfc822 inside it. */
  depth: number;
  /** Parts seen (headers blocks after the root). */
  parts: number;
}

export interface ScanLimits {
  maxDepth: number;
  maxParts: number;
}

interface Level {
  /** Set for a multipart level; an embedded message/rfc822 level has none and ends with its enclosing part. */
  boundary?: string;
}

/** Where the header block starting at `pos` ends (index after the blank line) and its unfolded lines. */
function readHeaderBlock(s: string, pos: number): { end: number; contentType?: string } {
  let i = pos;
  let contentType: string | undefined;
  let current: string | undefined;
  const finish = () => {
    if (current !== undefined && /^content-type\s*:/i.test(current) && contentType === undefined) {
      contentType = current.slice(current.indexOf(':') + 1).trim();
    }
  };
  // a header block is at most a few hundred lines in any real mail; the bound keeps a hostile one linear too
  for (let lines = 0; i < s.length && lines < 10_000; lines++) {
    let nl = s.indexOf('\n', i);
    if (nl < 0) nl = s.length;
    const line = s.slice(i, nl).replace(/\r$/, '');
    i = nl + 1;
    if (line === '') break;
    if ((line[0] === ' ' || line[0] === '\t') && current !== undefined) {
      current += ` ${line.trim()}`;
      continue;
    }
    finish();
    current = line;
  }
  finish();
  return { end: Math.min(i, s.length), contentType };
}

function classify(contentType: string | undefined): { multipart?: string; message: boolean } {
  if (!contentType) return { message: false };
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'message/rfc822' || type === 'message/global') return { message: true };
  if (!type.startsWith('multipart/')) return { message: false };
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  return boundary ? { multipart: boundary.trim(), message: false } : { message: false };
}

/**
 * Scans `raw` (one char per byte: `buffer.toString('latin1')`) and returns its shape, stopping early once a limit
 * is passed (the shape then reports the value that broke it).
 */
export function scanMime(raw: string, limits: ScanLimits): MimeShape {
  const stack: Level[] = [];
  let depth = 0;
  let parts = 0;

  // Opens the levels a header block starts: an embedded message's own headers follow its part headers.
  const openPart = (start: number): number => {
    let pos = start;
    for (let guard = 0; guard <= limits.maxDepth + 1; guard++) {
      const { end, contentType } = readHeaderBlock(raw, pos);
      const kind = classify(contentType);
      if (kind.multipart) {
        stack.push({ boundary: kind.multipart });
        depth = Math.max(depth, stack.length);
        return end;
      }
      if (!kind.message) return end;
      stack.push({});
      depth = Math.max(depth, stack.length);
      if (depth > limits.maxDepth) return end;
      pos = end;
    }
    return pos;
  };

  let pos = openPart(0);
  while (pos < raw.length && depth <= limits.maxDepth && parts <= limits.maxParts) {
    if (stack.length === 0) break;
    // next line that starts with "--"
    let at: number;
    if (pos === 0 || raw[pos - 1] === '\n') at = raw.startsWith('--', pos) ? pos : raw.indexOf('\n--', pos);
    else at = raw.indexOf('\n--', pos);
    if (at < 0) break;
    if (raw[at] === '\n') at++;
    let nl = raw.indexOf('\n', at);
    if (nl < 0) nl = raw.length;
    const line = raw.slice(at, nl).replace(/\r$/, '');
    pos = nl + 1;
    // the innermost open multipart whose boundary this line is
    let hit = -1;
    for (let k = stack.length - 1; k >= 0; k--) {
      const b = stack[k]?.boundary;
      if (b !== undefined && line.startsWith(`--${b}`)) {
        hit = k;
        break;
      }
    }
    if (hit < 0) continue;
    const boundary = stack[hit]?.boundary as string;
    const closing = line.startsWith(`--${boundary}--`);
    stack.length = closing ? hit : hit + 1;
    if (!closing) {
      parts++;
      pos = openPart(Math.min(pos, raw.length));
    }
  }
  return { depth, parts };
}
