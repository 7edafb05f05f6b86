import { ValidationError } from '@mlp/contracts';
import { detectFormat } from './detect-format';

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => new Uint8Array(b);
const bom = (s: string) => new Uint8Array([0xef, 0xbb, 0xbf, ...text(s)]);

describe('detectFormat', () => {
  it.each([
    ['data.csv', 'csv'],
    ['DATA.CSV', 'csv'],
    ['x.tsv', 'tsv'],
    ['x.tab', 'tsv'],
    ['x.ndjson', 'ndjson'],
    ['x.jsonl', 'ndjson'],
    ['x.json', 'json'],
    ['dir/x.parquet', 'parquet'],
    ['C:\\data\\x.arrow', 'arrow'],
    ['x.feather', 'arrow'],
    ['x.ipc', 'arrow'],
    ['https://host/path/x.parquet?sig=abc.csv#frag', 'parquet'],
  ])('%s → %s by extension, whatever the content', (name, expected) => {
    expect(detectFormat(name, text('a,b\n1,2\n'))).toBe(expected);
  });

  it('rejects compressed inputs by extension and by magic bytes', () => {
    expect(() => detectFormat('x.csv.gz', text('a,b'))).toThrow('compressed inputs are not supported (x.csv.gz): decompress the file first');
    expect(() => detectFormat('x.zip', text('a,b'))).toThrow(ValidationError);
    expect(() => detectFormat(undefined, bytes(0x1f, 0x8b, 0x08, 0x00))).toThrow('compressed inputs are not supported (gzip data)');
    expect(() => detectFormat('upload.bin', bytes(0x28, 0xb5, 0x2f, 0xfd, 0x00))).toThrow('compressed inputs are not supported (upload.bin)');
  });

  it('detects Parquet and Arrow by magic bytes', () => {
    expect(detectFormat(undefined, bytes(0x50, 0x41, 0x52, 0x31, 0x15, 0x04))).toBe('parquet'); // PAR1
    expect(detectFormat('blob', text('ARROW1\0\0'))).toBe('arrow'); // file format
    expect(detectFormat(undefined, bytes(0xff, 0xff, 0xff, 0xff, 0x78, 0x00, 0x00, 0x00))).toBe('arrow'); // IPC stream
    expect(detectFormat('unknown.dat', bytes(0x50, 0x41, 0x52, 0x31))).toBe('parquet');
  });

  it('detects JSON, NDJSON, TSV and CSV text, after a BOM and whitespace', () => {
    expect(detectFormat(undefined, text('  \n[{"a":1}]'))).toBe('json');
    expect(detectFormat(undefined, bom('[1, 2]'))).toBe('json');
    expect(detectFormat(undefined, text('{"a":1}\n{"a":2}\n'))).toBe('ndjson');
    expect(detectFormat(undefined, bom('\r\n{"a":1}'))).toBe('ndjson');
    expect(detectFormat(undefined, text('a\tb\tc\n1\t2\t3\n'))).toBe('tsv');
    expect(detectFormat(undefined, bom('name\tnote\n'))).toBe('tsv');
    expect(detectFormat(undefined, text('a,b,c\n1,2,3\n'))).toBe('csv');
    // commas outnumber tabs on the first line; tabs on later lines do not count
    expect(detectFormat(undefined, text('a,b\tc,d\nx\ty\tz\tw\n'))).toBe('csv');
    expect(detectFormat(undefined, text('a;b;c\n'))).toBe('csv');
    expect(detectFormat('notes.txt', text('single column\n'))).toBe('csv');
  });

  it('explains --format when the content is empty or unknown', () => {
    expect(() => detectFormat(undefined, new Uint8Array())).toThrow('cannot detect the format of the input: it is empty; pass --format csv|tsv|ndjson|json|parquet|arrow');
    expect(() => detectFormat('x.dat', bom(' \n\t'))).toThrow('cannot detect the format of "x.dat": it is empty; pass --format');
    expect(() => detectFormat('x.bin', bytes(0x00, 0x01, 0x02, 0x03))).toThrow('cannot detect the format of "x.bin": binary content of no known format; pass --format');
  });

  it('rejects UTF-16 text', () => {
    expect(() => detectFormat(undefined, bytes(0xff, 0xfe, 0x61, 0x00))).toThrow('the input is UTF-16 text: convert it to UTF-8, or pass --format');
  });

  it('throws ValidationErrors with a field issue', () => {
    try {
      detectFormat(undefined, new Uint8Array());
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).details).toEqual([{ path: 'format', message: 'empty input' }]);
    }
  });
});
