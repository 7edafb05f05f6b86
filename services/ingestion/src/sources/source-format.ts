import { ValidationError } from '@mlp/contracts';
import { detectFormat } from '@mlp/data';
import { inputFormats, type InputFormat } from '../engine/read-source';

/** A caller-given format, checked at run time (it may come from a CLI flag or a request). */
export function checkFormat(format: string): InputFormat {
  if ((inputFormats as readonly string[]).includes(format)) return format as InputFormat;
  throw new ValidationError(`unknown format "${format}": use one of ${inputFormats.join(', ')}`, [
    { path: 'format', message: `one of ${inputFormats.join(', ')}` },
  ]);
}

/**
 * The format a file name's extension names, or undefined when it names none.
 * Compressed extensions throw detectFormat's ValidationError.
 */
export function formatFromName(name: string): InputFormat | undefined {
  try {
    // With no content to sniff, detectFormat answers from the extension or reports empty input.
    return detectFormat(name, new Uint8Array(0));
  } catch (err) {
    if (err instanceof ValidationError && err.details.some((d) => d.message === 'empty input')) return undefined;
    throw err;
  }
}

/** Media types that name one format; generic ones (application/json, text/plain, octet-stream) name none. */
const byMediaType: Record<string, InputFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'application/jsonlines': 'ndjson',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/vnd.apache.arrow.file': 'arrow',
  'application/vnd.apache.arrow.stream': 'arrow',
};

export function formatFromContentType(contentType: string | null): InputFormat | undefined {
  if (!contentType) return undefined;
  return byMediaType[contentType.split(';')[0].trim().toLowerCase()];
}
