import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ident, literal } from './sql-text';

describe('ident and literal', () => {
  it('double-quotes identifiers, doubling quotes inside', () => {
    expect(ident('order')).toBe('"order"');
    expect(ident('a"b')).toBe('"a""b"');
    expect(ident('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
  });

  it('single-quotes strings, doubling quotes inside; numbers, booleans and NULL as SQL', () => {
    expect(literal("O'Brien")).toBe("'O''Brien'");
    expect(literal("'; DROP TABLE t; --")).toBe("'''; DROP TABLE t; --'");
    expect([literal(1.5), literal(-0), literal(true), literal(false), literal(null)]).toEqual(['1.5', '0', 'TRUE', 'FALSE', 'NULL']);
  });

  it('refuses non-finite numbers', () => {
    expect(() => literal(NaN)).toThrow(RangeError);
    expect(() => literal(Infinity)).toThrow('not a finite number: Infinity');
  });
});

/**
 * One quoting helper: no other source file quotes an identifier or a string
 * literal by hand (today's three copies were in libs/duckdb, libs/ml and the
 * PostgreSQL source).
 */
describe('one SQL quoting helper', () => {
  const root = join(__dirname, '../../../..');
  const skipped = /(^|\/)(node_modules|dist)(\/|$)|\.spec\.ts$|^libs\/data\/src\/sql\/sql-text\.ts$/;
  const handQuoting = [/replace\(\/"\/g,\s*'""'\)/, /replace\(\/'\/g,\s*"''"\)/, /function\s+quoteIdent\b/];

  function sources(dir: string, out: string[] = []): string[] {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (skipped.test(relative(root, path))) continue;
      if (entry.isDirectory()) sources(path, out);
      else if (entry.name.endsWith('.ts')) out.push(path);
    }
    return out;
  }

  it('has no hand-written copy outside libs/data/src/sql', () => {
    const files = ['services', 'libs', 'tools'].flatMap((d) => sources(join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const copies = files.filter((f) => handQuoting.some((re) => re.test(readFileSync(f, 'utf8')))).map((f) => relative(root, f));
    expect(copies).toEqual([]);
  });
});
