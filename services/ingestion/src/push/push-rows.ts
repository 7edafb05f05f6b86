import { parseOrThrow, pushRowsBodySchema, type PushRowReason } from '@mlp/contracts';

/**
 * Pushed rows as NDJSON lines (bytes, no newline), exactly as they are
 * spooled and later ingested: a JSON body's items are serialized one per line,
 * an NDJSON body's non-blank lines are kept byte for byte (so bad encodings
 * and malformed lines reach the quarantine with their reason).
 */
export type PushedLine = Buffer;

/** Longest line the NDJSON reader of the engine accepts (see read-source.ts). */
export const MAX_LINE_BYTES = 10_000_000;

export function linesFromJson(body: unknown): PushedLine[] {
  const parsed = parseOrThrow(pushRowsBodySchema, body, 'request body');
  const rows = Array.isArray(parsed) ? parsed : parsed.rows;
  return rows.map((row) => Buffer.from(JSON.stringify(row) ?? 'null', 'utf8'));
}

/** Splits on LF (a trailing CR is dropped); whitespace-only lines are not rows. */
export function linesFromNdjson(body: Buffer): PushedLine[] {
  const lines: PushedLine[] = [];
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    let stop = end;
    if (stop > start && body[stop - 1] === 0x0d) stop--;
    const line = body.subarray(start, stop);
    if (!isBlank(line)) lines.push(asOneLine(line));
    start = end + 1;
  }
  return lines;
}

/**
 * A line with control characters (a CR or NUL inside, say) is not JSON and
 * might be split by line readers: it is kept as a JSON string of its text, so
 * it stays one row and is quarantined as not a JSON object.
 */
export function asOneLine(line: Buffer): PushedLine {
  for (const byte of line) if (byte < 0x20 && byte !== 0x09) return Buffer.from(JSON.stringify(line.toString('utf8')), 'utf8');
  return line;
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0b && byte !== 0x0c) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Problems found without the schema: undecodable or over-long lines; with `objectsOnly`, lines that are not a JSON object. */
export function lineIssue(line: PushedLine, objectsOnly: boolean): PushRowReason | null {
  if (line.length > MAX_LINE_BYTES) return { code: 'malformed_row', column: null, message: `line longer than ${MAX_LINE_BYTES} bytes` };
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { code: 'bad_encoding', column: null, message: 'not valid UTF-8' };
  }
  if (!objectsOnly) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return null;
  } catch {
    // falls through
  }
  return { code: 'malformed_row', column: null, message: 'not a JSON object' };
}
