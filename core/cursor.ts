/**
 * Page cursors handed to clients (`?cursor=`): a short text the server wrote, base64url so it travels in a URL.
 * What the text means is the lister's business; it must check the decoded text itself, since a client may send
 * anything back.
 */
import { CityLoopError } from './errors.ts';

/** The refusal of a cursor that is not one of ours, or not one for this list. */
export function badCursor(): CityLoopError {
  return new CityLoopError('BAD_CURSOR', '翻页参数无效，请从第一页重新读取 (cursor is not valid here)', 400);
}

export function encodeCursor(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The text of a cursor; `BAD_CURSOR` when it is empty, too long or not base64url. */
export function decodeCursor(cursor: string): string {
  if (cursor.length === 0 || cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
