import { ValidationError } from '@mlp/contracts';
import { asOneLine, lineIssue, linesFromJson, linesFromNdjson } from './push-rows';

const text = (lines: Buffer[]) => lines.map((l) => l.toString('utf8'));

describe('push rows', () => {
  it('serializes each item of a JSON body, {"rows": [...]} or a bare array, one per line', () => {
    expect(text(linesFromJson({ rows: [{ a: 1 }, { b: 'x\ny' }] }))).toEqual(['{"a":1}', '{"b":"x\\ny"}']);
    expect(text(linesFromJson([{ a: 1 }, 5, null, 'str']))).toEqual(['{"a":1}', '5', 'null', '"str"']);
  });

  it('refuses a JSON body without rows', () => {
    expect(() => linesFromJson({ rows: [] })).toThrow(ValidationError);
    expect(() => linesFromJson([])).toThrow(ValidationError);
    expect(() => linesFromJson({ rows: [{}], extra: 1 })).toThrow(ValidationError);
    expect(() => linesFromJson({ a: 1 })).toThrow(ValidationError);
  });

  it('keeps the non-blank NDJSON lines byte for byte (CRLF accepted)', () => {
    const body = Buffer.concat([Buffer.from('{"a":1}\r\n\n   \n{not json\n'), Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from('\n\t\n{"b":2}')]);
    const lines = linesFromNdjson(body);
    expect(lines).toHaveLength(4);
    expect(text(lines.filter((_, i) => i !== 2))).toEqual(['{"a":1}', '{not json', '{"b":2}']);
    expect([...lines[2]]).toEqual([0x7b, 0xff, 0x7d]);
  });

  it('turns a line with control characters into one JSON string row', () => {
    expect(asOneLine(Buffer.from('a\rb\u0000c')).toString()).toBe('"a\\rb\\u0000c"');
    const plain = Buffer.from('{"a":"\tb"}');
    expect(asOneLine(plain)).toBe(plain);
    expect(text(linesFromNdjson(Buffer.from('{"a":1}\rjunk\n')))).toEqual(['"{\\"a\\":1}\\rjunk"']);
  });

  it('finds encoding problems always, and non-objects when asked', () => {
    expect(lineIssue(Buffer.from([0x7b, 0xff, 0x7d]), false)).toMatchObject({ code: 'bad_encoding' });
    expect(lineIssue(Buffer.from('{"a":1}'), true)).toBeNull();
    expect(lineIssue(Buffer.from('[1]'), false)).toBeNull();
    for (const line of ['[1]', '5', '"s"', 'null', '{broken']) {
      expect(lineIssue(Buffer.from(line), true)).toEqual({ code: 'malformed_row', column: null, message: 'not a JSON object' });
    }
  });
});
