import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { eventCatalogue } from './catalogue';

/**
 * The catalogue lists only events that something appends. This reads every
 * TypeScript source outside libs/contracts (specs, fixtures, contract
 * suites, benches and test kits left out: a test appending an event does
 * not make the platform produce it) and looks for each type name used as a
 * value, not as a consumer's comparison or a type argument.
 */
const root = join(__dirname, '../../..');
const scanned = ['services', 'libs', 'tools'];
const skipped = /(^|\/)(node_modules|dist|testing|contract|bench)(\/|$)|\.spec\.ts$|\.fixture\.ts$|^libs\/contracts\//;

/**
 * Events the platform reads but does not append yet, each with the reader
 * that needs it kept: an entry must still have a consumer and no producer,
 * and leaves this list once a producer exists. Empty now that the registry
 * appends ModelVersionRegistered, ModelAliasAssigned and ModelAliasRemoved.
 */
const awaitingProducer: Record<string, string> = {};

function sources(dir: string, out: { path: string; text: string }[] = []): { path: string; text: string }[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(root, path);
    if (skipped.test(rel)) continue;
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts')) out.push({ path: rel, text: readFileSync(path, 'utf8') });
  }
  return out;
}

const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `'T'` used as a value (`{type: 'T'}`, `ev('T', …)`), after dropping comparisons, `case 'T'` and type arguments. */
function produces(text: string, type: string): boolean {
  const q = `['"\`]${escape(type)}['"\`]`;
  const consumerUses = new RegExp(`(===|!==)\\s*${q}|case\\s+${q}|<\\s*${q}|\\|\\s*${q}|${q}(?=\\s*[|>])`, 'g');
  return new RegExp(q).test(text.replace(consumerUses, ''));
}

function consumes(text: string, type: string): boolean {
  return new RegExp(`(===|!==)\\s*['"\`]${escape(type)}['"\`]|case\\s+['"\`]${escape(type)}['"\`]`).test(text);
}

describe('event catalogue: only produced events', () => {
  const files = scanned.flatMap((d) => sources(join(root, d))).map((f) => ({ ...f, text: withoutComments(f.text) }));

  it('scans the services', () => {
    expect(files.some((f) => f.path.startsWith('services/ingestion/'))).toBe(true);
    expect(files.some((f) => f.path.startsWith('services/training/'))).toBe(true);
    expect(files.some((f) => f.path.startsWith('libs/contracts/'))).toBe(false);
  });

  it('has a producer for every catalogued event', () => {
    const unproduced = Object.keys(eventCatalogue).filter((type) => !(type in awaitingProducer) && !files.some((f) => produces(f.text, type)));
    expect(unproduced).toEqual([]);
  });

  it('keeps the events awaiting a producer only while something reads them and nothing appends them', () => {
    for (const [type, why] of Object.entries(awaitingProducer)) {
      expect({ type, why, catalogued: type in eventCatalogue }).toEqual({ type, why, catalogued: true });
      expect({ type, consumedBy: files.filter((f) => consumes(f.text, type)).length > 0 }).toEqual({ type, consumedBy: true });
      expect({ type, producedBy: files.filter((f) => produces(f.text, type)).map((f) => f.path) }).toEqual({ type, producedBy: [] });
    }
  });

  it('tells a producer from a consumer', () => {
    expect(produces(`return [{ type: 'X', data }];`, 'X')).toBe(true);
    expect(produces(`return [ev('X', command.data)];`, 'X')).toBe(true);
    expect(produces(`if (e.type === 'X') n++;\nswitch (t) { case 'X': break; }\ntype E = DomainEvent<'X' | 'Y'>;\nlet d: EventData<'X'>;`, 'X')).toBe(false);
  });
});
