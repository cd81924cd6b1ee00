/**
 * Readable stack traces for the logs of minified Lambda bundles, paid for only when an error is logged.
 *
 * The bundles ship their source maps (`index.mjs.map` and one per lazy chunk, infra/bundling.ts), but the functions do
 * not run with `--enable-source-maps`: that flag makes Node read and index the map of every module at load, 10-30 ms
 * of every cold start (measured in `npm run bench -- coldstart`), while our handlers catch their errors and only a
 * logged failure ever needs a stack. So the mapping happens here, on the error path: each frame of a file that has a
 * `.map` beside it is looked up with `node:module`'s `SourceMap` (the map is read and indexed once per file, on the
 * first error that needs it); frames of other files (Node internals, the unbundled code of tests and the local stack,
 * which tsx maps itself) are left as they are. Nothing here throws: an unreadable map leaves its frames unmapped.
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The location at the end of a V8 frame: `(file:///var/task/index.mjs:1:2345)` or a bare `/var/task/x.mjs:1:2`. */
const FRAME_LOCATION = /^(\s*at (?:.*? )?)(\()?((?:file:\/\/)?\/[^()\s]*?\.[cm]?js):(\d+):(\d+)\)?$/;

/** Most frames mapped per stack (V8 keeps 10 unless `Error.stackTraceLimit` says otherwise). */
const MAX_FRAMES = 50;

const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  const known = maps.get(file);
  if (known !== undefined) return known;
  let map: SourceMap | null = null;
  try {
    const payload = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload;
    if (payload && typeof payload.mappings === 'string' && Array.isArray(payload.sources)) map = new SourceMap(payload);
  } catch {
    map = null;
  }
  maps.set(file, map);
  return map;
}

/** `../../functions/triage.ts` → `functions/triage.ts`: sources are relative to the map's folder, which is a temp dir. */
function sourcePath(source: string): string {
  const s = source.startsWith('file://') ? fileURLToPath(source) : source;
  return s.replace(/^(?:\.\.?\/)+/, '');
}

/** One frame, mapped when its file has a source map and the position is in it; otherwise unchanged. */
function mapFrame(line: string): string {
  const m = FRAME_LOCATION.exec(line);
  if (!m) return line;
  const [, head = '', paren, location = '', row = '', column = ''] = m;
  let file: string;
  try {
    file = location.startsWith('file://') ? fileURLToPath(location) : location;
  } catch {
    return line;
  }
  const map = mapOf(file);
  if (!map) return line;
  const origin = map.findOrigin(Number(row), Number(column)) as {
    fileName?: string;
    lineNumber?: number;
    columnNumber?: number;
  };
  if (!origin.fileName || origin.lineNumber === undefined) return line;
  const where = `${sourcePath(origin.fileName)}:${origin.lineNumber}:${origin.columnNumber ?? 0}`;
  return paren ? `${head}(${where})` : `${head}${where}`;
}

/** `stack` with its bundled frames mapped to the TypeScript sources. */
export function mapStack(stack: string): string {
  const lines = stack.split('\n');
  let frames = 0;
  return lines
    .map((line) => {
      if (!/^\s*at /.test(line) || frames++ >= MAX_FRAMES) return line;
      return mapFrame(line);
    })
    .join('\n');
}

/** The readable stack of an error (undefined for a value that is not an Error or has no stack). Never throws. */
export function readableStack(e: unknown): string | undefined {
  if (!(e instanceof Error) || typeof e.stack !== 'string') return undefined;
  try {
    return mapStack(e.stack);
  } catch {
    return e.stack;
  }
}

/** Forgets the maps read so far (tests that rewrite a bundle in place). */
export function clearSourceMaps(): void {
  maps.clear();
}
