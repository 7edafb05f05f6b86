import { z } from 'zod';
import { validateKey } from '@mlp/artifacts';
import { assertStreamName, newEventSchema, ValidationError, type FieldIssue, type RecordedEvent } from '@mlp/contracts';

/**
 * A run archive (`mlp export run`): a tar (gzip'd or not) holding
 * - `manifest.json` first: what the archive holds, with the sha256 of everything else;
 * - `events.ndjson`: the events, one RecordedEvent per line, in their original global order;
 * - `artifacts/sha256/<hex>`: the bytes of every artifact those events reference.
 * Every stream is a prefix of its source stream (revisions 0..n-1), so an
 * import can tell an event already there (same id at the same revision) from
 * a conflicting one.
 */
export const ARCHIVE_FORMAT = 'mlp-run-archive';
export const ARCHIVE_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';
export const EVENTS_ENTRY = 'events.ndjson';
export const ARTIFACTS_DIR = 'artifacts/';
/** The manifest is read whole: it stays small (one line per stream and artifact). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** events.ndjson is read into memory to be checked before anything is written. */
export const MAX_EVENTS_BYTES = 256 * 1024 * 1024;
export const MAX_EVENTS = 1_000_000;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase sha256 hex digest');
const contentKey = z.string().regex(/^sha256\/[0-9a-f]{64}$/, 'expected a content key sha256/<hex>');

export const archiveManifestSchema = z
  .object({
    format: z.literal(ARCHIVE_FORMAT),
    version: z.literal(ARCHIVE_VERSION),
    runId: z.string().uuid(),
    createdAt: z.iso.datetime({ offset: true }),
    /** The code version of the platform that exported it. */
    codeVersion: z.string().min(1),
    events: z.object({ entry: z.literal(EVENTS_ENTRY), count: z.number().int().positive().max(MAX_EVENTS), bytes: z.number().int().positive().max(MAX_EVENTS_BYTES), sha256: sha256Hex }).strict(),
    /** Each stream as exported: revisions 0..lastRevision. */
    streams: z.array(z.object({ stream: z.string().min(1), events: z.number().int().positive(), lastRevision: z.number().int().nonnegative() }).strict()).min(1),
    artifacts: z.array(z.object({ key: contentKey, sha256: sha256Hex, size: z.number().int().nonnegative(), contentType: z.string().min(1).max(255) }).strict()),
    /** Input references the export did not follow (e.g. a served model an online-learning run started from). */
    notFollowed: z.array(z.object({ ref: z.string(), reason: z.string() }).strict()).default([]),
  })
  .strict();

export type ArchiveManifest = z.output<typeof archiveManifestSchema>;
export type ArchiveArtifact = ArchiveManifest['artifacts'][number];

/** The error of every bad archive: 400 ARCHIVE_INVALID with what is wrong where. */
export function invalidArchive(message: string, issues: FieldIssue[] = []): ValidationError {
  return new ValidationError(`invalid run archive: ${message}`, issues.length ? issues : [{ path: 'archive', message }], { code: 'ARCHIVE_INVALID' });
}

/** The artifact entry name of a content key. */
export function artifactEntry(key: string): string {
  return `${ARTIFACTS_DIR}${key}`;
}

/**
 * What an archive entry name is: the manifest, the events, or an artifact
 * (its key). Anything else (absolute paths, `..`, other directories, links
 * named like files) is refused: entry names are never used as paths, and an
 * archive holds nothing the import does not read.
 */
export function classifyEntry(name: string): { kind: 'manifest' } | { kind: 'events' } | { kind: 'artifact'; key: string } {
  if (name === MANIFEST_ENTRY) return { kind: 'manifest' };
  if (name === EVENTS_ENTRY) return { kind: 'events' };
  if (name.startsWith(ARTIFACTS_DIR)) {
    const key = name.slice(ARTIFACTS_DIR.length);
    try {
      validateKey(key, 'entry');
    } catch (err) {
      throw invalidArchive(`entry ${JSON.stringify(name)}: ${(err as Error).message}`, [{ path: 'entries', message: `${JSON.stringify(name)} is not an artifact key` }]);
    }
    if (contentKey.safeParse(key).success) return { kind: 'artifact', key };
  }
  throw invalidArchive(`unexpected entry ${JSON.stringify(name.slice(0, 200))}`, [
    { path: 'entries', message: `only ${MANIFEST_ENTRY}, ${EVENTS_ENTRY} and ${ARTIFACTS_DIR}sha256/<hex> may appear` },
  ]);
}

/** Parses and checks manifest.json: its schema, unique streams and keys, each key naming its own sha256. */
export function parseManifest(bytes: Buffer): ArchiveManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalidArchive(`${MANIFEST_ENTRY} is not JSON: ${(err as Error).message}`);
  }
  const parsed = archiveManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: `manifest.${i.path.join('.')}`.replace(/\.$/, ''), message: i.message }));
    throw invalidArchive(`${MANIFEST_ENTRY}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const m = parsed.data;
  const issues: FieldIssue[] = [];
  const streams = new Set<string>();
  m.streams.forEach((s, i) => {
    try {
      assertStreamName(s.stream);
    } catch {
      issues.push({ path: `manifest.streams.${i}.stream`, message: `invalid stream name ${JSON.stringify(s.stream)}` });
    }
    if (streams.has(s.stream)) issues.push({ path: `manifest.streams.${i}.stream`, message: `stream ${s.stream} listed twice` });
    streams.add(s.stream);
    if (s.events !== s.lastRevision + 1) issues.push({ path: `manifest.streams.${i}`, message: `${s.events} events cannot end at revision ${s.lastRevision} (a stream is exported from revision 0)` });
  });
  if (!streams.has(`run-${m.runId}`)) issues.push({ path: 'manifest.streams', message: `the run's own stream run-${m.runId} is missing` });
  const total = m.streams.reduce((n, s) => n + s.events, 0);
  if (total !== m.events.count) issues.push({ path: 'manifest.events.count', message: `${m.events.count} events, but the streams add up to ${total}` });
  const keys = new Set<string>();
  m.artifacts.forEach((a, i) => {
    if (keys.has(a.key)) issues.push({ path: `manifest.artifacts.${i}.key`, message: `${a.key} listed twice` });
    keys.add(a.key);
    if (a.key !== `sha256/${a.sha256}`) issues.push({ path: `manifest.artifacts.${i}`, message: `key ${a.key} does not name its sha256 ${a.sha256}` });
  });
  if (issues.length) throw invalidArchive(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  return m;
}

const recordedEventSchema = newEventSchema.extend({ stream: z.string().min(1), revision: z.number().int().nonnegative(), position: z.number().int().positive() });

/**
 * Parses events.ndjson against the manifest: every line an event envelope,
 * ids unique, each stream exactly the manifest's revisions 0..lastRevision in
 * order. Event data is checked against the catalogue by the caller.
 */
export function parseEvents(text: string, manifest: ArchiveManifest): RecordedEvent[] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.length !== manifest.events.count) throw invalidArchive(`${EVENTS_ENTRY} has ${lines.length} events, the manifest says ${manifest.events.count}`);
  const expected = new Map(manifest.streams.map((s) => [s.stream, s]));
  const next = new Map<string, number>();
  const ids = new Set<string>();
  const parsed = lines.map((line, i) => {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1} is not JSON`, [{ path: `events.${i}`, message: 'not JSON' }]);
    }
    const r = recordedEventSchema.safeParse(raw);
    if (!r.success) {
      const issues = r.error.issues.map((x) => ({ path: `events.${i}.${x.path.join('.')}`, message: x.message }));
      throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1}: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`, issues);
    }
    const e = r.data as RecordedEvent;
    if (!expected.has(e.stream)) throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1}: stream ${e.stream} is not in the manifest`);
    const want = next.get(e.stream) ?? 0;
    if (e.revision !== want) throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1}: ${e.stream} revision ${e.revision} where ${want} was expected`);
    next.set(e.stream, want + 1);
    if (ids.has(e.id)) throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1}: event id ${e.id} appears twice`);
    ids.add(e.id);
    return e;
  });
  for (const s of manifest.streams) {
    if ((next.get(s.stream) ?? 0) !== s.events) throw invalidArchive(`${EVENTS_ENTRY} has ${next.get(s.stream) ?? 0} events of ${s.stream}, the manifest says ${s.events}`);
  }
  return parsed;
}

const CONTENT_KEY_VALUE = /^sha256\/[0-9a-f]{64}$/;

/** Every content key (`sha256/<hex>`) an event's data mentions, at any depth. */
export function referencedKeys(data: unknown, into = new Set<string>()): Set<string> {
  if (typeof data === 'string') {
    if (CONTENT_KEY_VALUE.test(data)) into.add(data);
  } else if (Array.isArray(data)) {
    for (const v of data) referencedKeys(v, into);
  } else if (data && typeof data === 'object') {
    for (const v of Object.values(data)) referencedKeys(v, into);
  }
  return into;
}
