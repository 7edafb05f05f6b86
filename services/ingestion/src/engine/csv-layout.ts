import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { ValidationError } from '@mlp/contracts';

const HEAD_BYTES = 1 << 20;
const LF = 0x0a;
const CR = 0x0d;

/** Splits one CSV record (no embedded newlines) honouring the quote character. */
export function splitRecord(line: string, delimiter: string, quote: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote && ch === quote) {
      if (quoted && line[i + 1] === quote) {
        field += quote;
        i++;
      } else quoted = !quoted;
    } else if (!quoted && line.startsWith(delimiter, i)) {
      fields.push(field);
      field = '';
      i += delimiter.length - 1;
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** Unique, non-empty column names: blanks become `column<i>`, repeats get `_2`, `_3`… */
export function columnNames(raw: string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((name, i) => {
    // Control characters (NUL included) cannot be part of a column name.
    // eslint-disable-next-line no-control-regex
    const base = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 128) || `column${i}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
}

/**
 * The column names of a CSV file, from its first line (BOM stripped), or
 * `column0…` when it has no header. Reading them here instead of letting
 * DuckDB sniff keeps a damaged row from failing the whole file.
 */
export async function csvColumns(path: string, options: { delimiter: string; quote: string; header: boolean }): Promise<string[]> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  let text = new TextDecoder('utf-8').decode(head);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  const first = options.header ? lines[0] : lines.find((l) => l.trim() !== '');
  if (first === undefined || first.trim() === '') {
    throw new ValidationError(options.header ? 'the file has no header line (its first line is empty)' : 'the file has no rows', [
      { path: 'source', message: options.header ? 'first line must name the columns (or pass header: false)' : 'empty input' },
    ]);
  }
  const fields = splitRecord(first, options.delimiter, options.quote);
  return options.header ? columnNames(fields) : fields.map((_, i) => `column${i}`);
}

/**
 * Maps the line numbers DuckDB reports for rejected rows to data-row numbers.
 * DuckDB counts a record spanning lines (a quoted newline) as one line and a
 * blank line as a line of its own, while blank lines are not rows. One
 * streaming pass; only run when some row was rejected.
 */
export async function rowNumbersOfLines(path: string, lines: number[], options: { quote: string; header: boolean }): Promise<Map<number, number>> {
  const wanted = new Set(lines);
  const result = new Map<number, number>();
  const quote = options.quote ? options.quote.charCodeAt(0) : -1;
  let unit = 0;
  let record = options.header ? -1 : 0; // with a header, the first record is the header (row 0)
  let inQuote = false;
  let hasContent = false;
  const endUnit = () => {
    unit++;
    if (hasContent) record++;
    if (wanted.has(unit)) result.set(unit, Math.max(record, 1));
    hasContent = false;
  };
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === LF) {
        if (!inQuote) endUnit();
        continue;
      }
      if (b === quote) inQuote = !inQuote;
      if (b !== CR && b !== 0x20 && b !== 0x09) hasContent = true;
    }
    if (result.size === wanted.size) return result;
  }
  if (hasContent || inQuote) endUnit();
  // A broken quote can run to the end of the file: anything still unmapped belongs to the last record.
  for (const line of wanted) if (!result.has(line)) result.set(line, Math.max(record, 1));
  return result;
}

/** Copies `src` to `dst` with every CRLF turned into LF (DuckDB's strict reader wants one line ending). */
export async function normalizeLineEndings(src: string, dst: string): Promise<void> {
  const out = createWriteStream(dst);
  let pendingCr = false;
  for await (const chunk of createReadStream(src)) {
    let bytes = chunk as Buffer;
    if (pendingCr) {
      bytes = Buffer.concat([Buffer.from([CR]), bytes]);
      pendingCr = false;
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) {
      pendingCr = true;
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length - 1; i++) {
      if (bytes[i] === CR && bytes[i + 1] === LF) {
        parts.push(bytes.subarray(start, i));
        start = i + 1;
      }
    }
    parts.push(bytes.subarray(start));
    if (!out.write(Buffer.concat(parts))) await once(out, 'drain');
  }
  if (pendingCr) out.write(Buffer.from([CR]));
  out.end();
  await once(out, 'finish');
}
