import { createHash, randomUUID } from 'node:crypto';
import { ValidationError } from '@mlp/contracts';
import { classifyEntry, parseEvents, parseManifest, referencedKeys, type ArchiveManifest } from './run-archive.manifest';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const runId = randomUUID();

function manifest(overrides: Partial<ArchiveManifest> = {}): ArchiveManifest {
  return {
    format: 'mlp-run-archive',
    version: 1,
    runId,
    createdAt: '2026-12-05T10:00:00.000Z',
    codeVersion: '0.1.0',
    events: { entry: 'events.ndjson', count: 2, bytes: 100, sha256: hex('events') },
    streams: [{ stream: `run-${runId}`, events: 2, lastRevision: 1 }],
    artifacts: [{ key: `sha256/${hex('a')}`, sha256: hex('a'), size: 1, contentType: 'application/octet-stream' }],
    notFollowed: [],
    ...overrides,
  };
}

const bytes = (m: unknown) => Buffer.from(JSON.stringify(m));
const errorOf = (f: () => unknown): ValidationError => {
  try {
    f();
  } catch (err) {
    return err as ValidationError;
  }
  throw new Error('expected an error');
};

describe('run archive manifest', () => {
  it('accepts a well-formed manifest', () => {
    expect(parseManifest(bytes(manifest())).runId).toBe(runId);
  });

  it.each([
    ['not JSON', Buffer.from('{nope'), /not JSON/],
    ['another format', bytes({ ...manifest(), format: 'zip' }), /manifest.format/],
    ['a newer version', bytes({ ...manifest(), version: 2 }), /manifest.version/],
    ['unknown fields', bytes({ ...manifest(), extra: 1 }), /Unrecognized key/],
    ['a key that is not content-addressed', bytes(manifest({ artifacts: [{ key: '../etc/passwd', sha256: hex('a'), size: 1, contentType: 'x' }] })), /manifest.artifacts.0.key/],
    ['a key naming another sha256', bytes(manifest({ artifacts: [{ key: `sha256/${hex('b')}`, sha256: hex('a'), size: 1, contentType: 'x' }] })), /does not name its sha256/],
    ['a duplicated key', bytes(manifest({ artifacts: [manifest().artifacts[0], manifest().artifacts[0]] })), /listed twice/],
    ['an invalid stream name', bytes(manifest({ streams: [{ stream: `run-${runId}`, events: 1, lastRevision: 0 }, { stream: 'a.b>', events: 1, lastRevision: 0 }] })), /invalid stream name/],
    ['a stream not starting at revision 0', bytes(manifest({ streams: [{ stream: `run-${runId}`, events: 2, lastRevision: 5 }] })), /exported from revision 0/],
    ['no run stream', bytes(manifest({ streams: [{ stream: 'dataset-x', events: 2, lastRevision: 1 }] })), /run's own stream/],
    ['counts that do not add up', bytes(manifest({ events: { entry: 'events.ndjson', count: 3, bytes: 100, sha256: hex('e') } })), /streams add up to 2/],
  ])('refuses %s with ARCHIVE_INVALID', (_what, input, message) => {
    const err = errorOf(() => parseManifest(input));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.code).toBe('ARCHIVE_INVALID');
    expect(err.message).toMatch(message);
  });

  it('classifies entry names and refuses traversal, absolute paths and strays', () => {
    expect(classifyEntry('manifest.json')).toEqual({ kind: 'manifest' });
    expect(classifyEntry('events.ndjson')).toEqual({ kind: 'events' });
    expect(classifyEntry(`artifacts/sha256/${hex('a')}`)).toEqual({ kind: 'artifact', key: `sha256/${hex('a')}` });
    for (const name of ['../manifest.json', '/etc/passwd', 'artifacts/../../x', 'artifacts/sha256/../../evil', 'artifacts/other/key', './manifest.json', 'extra.txt', `artifacts/sha256/${hex('a')}/x`]) {
      expect(errorOf(() => classifyEntry(name)).code).toBe('ARCHIVE_INVALID');
    }
  });

  it('parses events: contiguous revisions per stream, unique ids, streams as in the manifest', () => {
    const event = (revision: number, id = randomUUID(), stream = `run-${runId}`) =>
      JSON.stringify({ id, type: 'ExperimentCreated', schemaVersion: 1, data: { experiment: 'e' }, occurredAt: '2026-12-05T10:00:00.000Z', correlationId: 'c', causationId: null, actor: 'a', codeVersion: 'v', stream, revision, position: revision + 1 });
    const m = manifest();
    expect(parseEvents(`${event(0)}\n${event(1)}\n`, m)).toHaveLength(2);
    expect(errorOf(() => parseEvents(`${event(0)}\n${event(2)}\n`, m)).message).toMatch(/revision 2 where 1 was expected/);
    const id = randomUUID();
    expect(errorOf(() => parseEvents(`${event(0, id)}\n${event(1, id)}\n`, m)).message).toMatch(/appears twice/);
    expect(errorOf(() => parseEvents(`${event(0)}\n${event(0, randomUUID(), 'dataset-x')}\n`, m)).message).toMatch(/not in the manifest/);
    expect(errorOf(() => parseEvents(`${event(0)}\n`, m)).message).toMatch(/has 1 events, the manifest says 2/);
    expect(errorOf(() => parseEvents(`${event(0)}\n{"id":1}\n`, m)).code).toBe('ARCHIVE_INVALID');
  });

  it('finds content keys at any depth of event data', () => {
    const a = `sha256/${hex('a')}`;
    const b = `sha256/${hex('b')}`;
    expect([...referencedKeys({ artifactKey: a, nested: [{ x: b }], other: 'sha256/short', n: 1 })].sort()).toEqual([a, b].sort());
  });
});
