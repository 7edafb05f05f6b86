import { ValidationError } from '@mlp/contracts';

export const dataFormats = ['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow'] as const;
export type DataFormat = (typeof dataFormats)[number];

const byExtension: Record<string, DataFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
  json: 'json',
  parquet: 'parquet',
  arrow: 'arrow',
  feather: 'arrow',
  ipc: 'arrow',
};
const compressedExtensions = new Set(['gz', 'gzip', 'tgz', 'zip', 'bz2', 'xz', 'zst', 'zstd', 'lz4', 'snappy', '7z']);
const compressedMagic: { name: string; bytes: number[] }[] = [
  { name: 'gzip', bytes: [0x1f, 0x8b] },
  { name: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
];
const formatHint = `pass --format ${dataFormats.join('|')}`;

/**
 * The format of an input, from its file name's extension when it has a known
 * one (`.csv .tsv .tab .ndjson .jsonl .json .parquet .arrow .feather .ipc`),
 * else from its first bytes: `PAR1` → parquet; `ARROW1` (file) or the
 * `0xFFFFFFFF` continuation marker (stream) → arrow; then, after a UTF-8 BOM
 * and whitespace, `[` → json, `{` → ndjson, a first line with more tabs than
 * commas → tsv, other text → csv.
 *
 * Throws a ValidationError for compressed inputs (by extension or magic
 * bytes), UTF-16 text, and empty or binary content of no known format.
 * `fileName` may be a URL; its query and fragment are ignored.
 */
export function detectFormat(fileName: string | undefined, head: Uint8Array): DataFormat {
  const name = fileName ? baseName(fileName) : '';
  const extensions = name.toLowerCase().split('.').slice(1);
  const last = extensions[extensions.length - 1];
  if (last !== undefined && compressedExtensions.has(last)) throw compressed(name);
  if (last !== undefined && byExtension[last]) return byExtension[last];

  const what = name ? `"${name}"` : 'the input';
  if (startsWith(head, [0x50, 0x41, 0x52, 0x31])) return 'parquet'; // PAR1
  if (startsWith(head, [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31])) return 'arrow'; // ARROW1
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff])) return 'arrow'; // IPC stream continuation marker
  for (const magic of compressedMagic) if (startsWith(head, magic.bytes)) throw compressed(name || `${magic.name} data`);
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) {
    throw new ValidationError(`${what} is UTF-16 text: convert it to UTF-8, or ${formatHint}`, [{ path: 'format', message: 'UTF-16 input' }]);
  }

  let start = startsWith(head, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (start < head.length && isSpace(head[start])) start++;
  if (start >= head.length) {
    throw new ValidationError(`cannot detect the format of ${what}: it is empty; ${formatHint}`, [{ path: 'format', message: 'empty input' }]);
  }
  if (looksBinary(head.subarray(start))) {
    throw new ValidationError(`cannot detect the format of ${what}: binary content of no known format; ${formatHint}`, [
      { path: 'format', message: 'unknown binary format' },
    ]);
  }
  if (head[start] === 0x5b) return 'json'; // [
  if (head[start] === 0x7b) return 'ndjson'; // {
  let tabs = 0;
  let commas = 0;
  for (let i = start; i < head.length && head[i] !== 0x0a && head[i] !== 0x0d; i++) {
    if (head[i] === 0x09) tabs++;
    else if (head[i] === 0x2c) commas++;
  }
  return tabs > commas ? 'tsv' : 'csv';
}

function baseName(fileName: string): string {
  const path = fileName.includes('://') ? fileName.replace(/[?#].*$/, '') : fileName;
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function compressed(name: string): ValidationError {
  return new ValidationError(`compressed inputs are not supported (${name}): decompress the file first`, [
    { path: 'format', message: 'compressed input' },
  ]);
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** NUL bytes, or more than 10% control characters other than tab/CR/LF/FF. */
function looksBinary(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return true;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) control++;
  }
  return control * 10 > sample.length;
}
