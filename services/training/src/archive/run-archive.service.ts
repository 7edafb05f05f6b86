// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- tar-stream ships no types, and projects compiling this file through imports (cli, e2e) need them
/// <reference path="./tar-stream.d.ts" />
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { Inject, Injectable } from '@nestjs/common';
import * as tar from 'tar-stream';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  categoryOf,
  ConcurrencyError,
  DomainError,
  IllegalStateError,
  NotFoundError,
  upcasters,
  validateEventData,
  type EventType,
  type NewEvent,
  type RecordedEvent,
} from '@mlp/contracts';
import { codeVersion, isExpectedVersionConflict, type EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE } from '@mlp/service-kit';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  artifactEntry,
  classifyEntry,
  EVENTS_ENTRY,
  invalidArchive,
  MANIFEST_ENTRY,
  MAX_EVENTS_BYTES,
  MAX_MANIFEST_BYTES,
  parseEvents,
  parseManifest,
  referencedKeys,
  type ArchiveArtifact,
  type ArchiveManifest,
} from './run-archive.manifest';
import { collectRunLineage } from './run-lineage';

export interface ExportedArchive {
  /** The archive file (in `dir`, which the caller removes). */
  path: string;
  dir: string;
  size: number;
  sha256: string;
  manifest: ArchiveManifest;
}

export interface ImportResult {
  runId: string;
  streams: { stream: string; archived: number; present: number; appended: number; kept?: boolean }[];
  events: { archived: number; present: number; appended: number };
  artifacts: { archived: number; present: number; uploaded: number };
  notFollowed: ArchiveManifest['notFollowed'];
}

/** Streams whose existence is all that matters: an import keeps the target's (a run joins an existing experiment). */
const MARKER_CATEGORIES = new Set(['experiment']);

/**
 * `mlp export run` / `mlp import`: a run with everything it causally depends
 * on (see run-lineage.ts) as one archive, and back into another platform.
 * An import checks the whole archive and plans every append before it
 * writes anything; it is idempotent (events keep their ids, an event already
 * at its revision is skipped, artifacts are content-addressed).
 */
@Injectable()
export class RunArchiveService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  /** Writes the run's archive to a temp file (tar, gzip'd unless `gzip: false`), every artifact checked against its key on the way. */
  async export(runId: string, options: { gzip?: boolean } = {}): Promise<ExportedArchive> {
    const lineage = await collectRunLineage((s) => this.store.readStream(s), runId);
    const events: RecordedEvent[] = [];
    const streams: ArchiveManifest['streams'] = [];
    for (const [stream, last] of lineage.streams) {
      const prefix = (await this.store.readStream(stream)).filter((e) => e.revision <= last);
      streams.push({ stream, events: prefix.length, lastRevision: last });
      events.push(...prefix);
    }
    events.sort((a, b) => a.position - b.position);
    const keys = new Set(lineage.artifacts);
    for (const e of events) referencedKeys(e.data, keys);
    const artifacts: ArchiveArtifact[] = [];
    for (const key of [...keys].sort()) {
      let s;
      try {
        s = await this.artifacts.stat(key);
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`artifact ${key}, which the run's lineage references, is missing from the artifact store`, { code: 'ARTIFACT_MISSING' });
        throw err;
      }
      artifacts.push({ key, sha256: key.slice('sha256/'.length), size: s.size, contentType: s.contentType });
    }
    const eventsText = Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      runId,
      createdAt: new Date().toISOString(),
      codeVersion: codeVersion(),
      events: { entry: EVENTS_ENTRY, count: events.length, bytes: eventsText.length, sha256: sha256(eventsText) },
      streams,
      artifacts,
      notFollowed: lineage.notFollowed,
    };

    const dir = await mkdtemp(join(tmpdir(), 'mlp-export-'));
    try {
      const path = join(dir, options.gzip === false ? 'run.tar' : 'run.tar.gz');
      const pack = tar.pack();
      const written = options.gzip === false ? pipeline(pack, createWriteStream(path)) : pipeline(pack, createGzip(), createWriteStream(path));
      const mtime = new Date(manifest.createdAt);
      await addEntry(pack, { name: MANIFEST_ENTRY, mtime }, Buffer.from(JSON.stringify(manifest, null, 2)));
      await addEntry(pack, { name: EVENTS_ENTRY, mtime }, eventsText);
      for (const a of artifacts) {
        const hash = createHash('sha256');
        const entry = entryDone(pack, { name: artifactEntry(a.key), size: a.size, mtime });
        await pipeline(await this.artifacts.get(a.key), hashing(hash), entry.stream);
        await entry.done;
        const actual = hash.digest('hex');
        if (actual !== a.sha256) throw new IllegalStateError(`artifact ${a.key} in the artifact store has sha256 ${actual}: its bytes were changed; not exporting them`, { code: 'INPUT_CHANGED', details: { key: a.key, expected: a.sha256, actual } });
      }
      pack.finalize();
      await written;
      return { path, dir, size: (await stat(path)).size, sha256: await fileSha256(path), manifest };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Imports an archive file (at most `maxBytes` unpacked). Checks, in order,
   * before any write: entry names, the manifest, every artifact's bytes
   * against its key, the events (envelopes, catalogue schemas, contiguous
   * revisions, every referenced artifact present), and the target's streams
   * (an event of the archive must be absent or at the same revision; a
   * different event there is 409 IMPORT_CONFLICT). Then it uploads the
   * artifacts and appends the missing events with an expected revision, so a
   * concurrent writer is a 412 instead of an interleaved stream.
   */
  async import(file: string, maxBytes: number): Promise<ImportResult> {
    const dir = await mkdtemp(join(tmpdir(), 'mlp-import-'));
    try {
      const unpacked = await unpack(file, dir, maxBytes);
      const { manifest } = unpacked;
      const events = parseEvents(unpacked.events.toString('utf8'), manifest);
      const listed = new Set(manifest.artifacts.map((a) => a.key));
      events.forEach((e, i) => {
        try {
          validateEventData(e.type as EventType, upcasters.upcast(e).data);
        } catch (err) {
          throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1} (${e.type} in ${e.stream}): ${(err as Error).message}`, [{ path: `events.${i}.data`, message: (err as Error).message }]);
        }
        for (const key of referencedKeys(e.data)) {
          if (!listed.has(key)) throw invalidArchive(`${EVENTS_ENTRY} line ${i + 1} (${e.type}) references artifact ${key}, which the archive does not carry`, [{ path: `events.${i}.data`, message: `${key} missing` }]);
        }
      });

      const plan = await this.plan(manifest, events);
      const artifacts = { archived: manifest.artifacts.length, present: 0, uploaded: 0 };
      for (const a of manifest.artifacts) {
        if (await this.artifacts.exists(a.key)) {
          artifacts.present++;
          continue;
        }
        const put = await this.artifacts.put(createReadStream(unpacked.files.get(a.key)!), { size: a.size, contentType: a.contentType });
        if (put.key !== a.key) throw new IllegalStateError(`artifact ${a.key} was stored as ${put.key}`, { code: 'ARTIFACT_CHANGED' });
        artifacts.uploaded++;
      }
      const done: string[] = [];
      for (const p of plan) {
        if (p.append.length === 0) continue;
        try {
          await this.store.appendToStream(p.stream, p.append.map(toNewEvent), { expectedRevision: p.present === 0 ? 'no_stream' : p.present - 1 });
        } catch (err) {
          if (!isExpectedVersionConflict(err)) throw err;
          const message = `stream ${p.stream} changed while the archive was imported (${err.message})${done.length ? `; already imported: ${done.join(', ')} (importing again completes them)` : ''}`;
          throw new ConcurrencyError(message, { code: 'IMPORT_CONCURRENT_WRITE', details: { stream: p.stream, imported: done }, cause: err });
        }
        done.push(p.stream);
      }
      const streams = plan.map((p) => ({ stream: p.stream, archived: p.archived, present: p.present, appended: p.append.length, ...(p.kept ? { kept: true } : {}) }));
      const appended = streams.reduce((n, s) => n + s.appended, 0);
      return {
        runId: manifest.runId,
        streams,
        events: { archived: events.length, present: events.length - appended, appended },
        artifacts,
        notFollowed: manifest.notFollowed,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Per stream (in the order of their first event): what the target already has and what to append; conflicts are a 409 naming every one. */
  private async plan(manifest: ArchiveManifest, events: RecordedEvent[]) {
    const byStream = new Map<string, RecordedEvent[]>();
    for (const e of events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e]);
    const conflicts: { stream: string; revision: number; archived: string; target: string }[] = [];
    const plan: { stream: string; archived: number; present: number; append: RecordedEvent[]; kept?: boolean }[] = [];
    for (const [stream, archived] of byStream) {
      const target = await this.store.readStream(stream);
      if (MARKER_CATEGORIES.has(categoryOf(stream)) && target.length > 0) {
        plan.push({ stream, archived: archived.length, present: target.length, append: [], kept: true });
        continue;
      }
      for (const e of archived) {
        const there = target[e.revision];
        if (there && there.id !== e.id) conflicts.push({ stream, revision: e.revision, archived: e.id, target: there.id });
      }
      plan.push({ stream, archived: archived.length, present: target.length, append: archived.filter((e) => e.revision >= target.length) });
    }
    if (conflicts.length) {
      const streams = [...new Set(conflicts.map((c) => c.stream))];
      throw new IllegalStateError(
        `the target platform already has other events in ${streams.join(', ')} (e.g. ${conflicts[0].stream} revision ${conflicts[0].revision} is ${conflicts[0].target}, the archive has ${conflicts[0].archived}); nothing was imported`,
        { code: 'IMPORT_CONFLICT', details: { conflicts: conflicts.slice(0, 100) } },
      );
    }
    if (manifest.streams.length !== byStream.size) throw invalidArchive('the manifest lists streams without events');
    return plan;
  }
}

function toNewEvent(e: RecordedEvent): NewEvent {
  return { id: e.id, type: e.type, schemaVersion: e.schemaVersion, data: e.data, occurredAt: e.occurredAt, correlationId: e.correlationId, causationId: e.causationId, actor: e.actor, codeVersion: e.codeVersion };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function hashing(hash: ReturnType<typeof createHash>, onBytes?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
}

function entryDone(pack: tar.Pack, headers: tar.Headers): { stream: NodeJS.WritableStream; done: Promise<void> } {
  let stream!: NodeJS.WritableStream;
  const done = new Promise<void>((resolve, reject) => {
    stream = pack.entry(headers, (err) => (err ? reject(err) : resolve()));
  });
  return { stream, done };
}

function addEntry(pack: tar.Pack, headers: tar.Headers, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => pack.entry({ ...headers, size: body.length }, body, (err) => (err ? reject(err) : resolve())));
}

interface Unpacked {
  manifest: ArchiveManifest;
  events: Buffer;
  /** Artifact key → its bytes in a temp file (checked against the key). */
  files: Map<string, string>;
}

/**
 * Reads the archive (gzip'd or plain tar) entry by entry: the manifest must
 * come first; then events.ndjson and the artifacts it lists, each at most
 * its declared size, all together at most `maxBytes`. Entry names are only
 * compared, never used as paths: artifacts go to numbered temp files.
 */
async function unpack(file: string, dir: string, maxBytes: number): Promise<Unpacked> {
  const head = Buffer.alloc(2);
  const fd = await open(file, 'r');
  try {
    await fd.read(head, 0, 2, 0);
  } finally {
    await fd.close();
  }
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  let manifest: ArchiveManifest | undefined;
  let events: Buffer | undefined;
  const files = new Map<string, string>();
  let total = 0;
  const extract = tar.extract();
  extract.on('entry', (headers, stream, next) => {
    const handle = async () => {
      const name = headers.name;
      if (headers.type !== 'file') throw invalidArchive(`entry ${JSON.stringify(name.slice(0, 200))} is a ${headers.type ?? 'special entry'}; only regular files may appear`, [{ path: 'entries', message: 'not a regular file' }]);
      const entry = classifyEntry(name);
      const size = headers.size ?? 0;
      total += size;
      if (total > maxBytes) throw invalidArchive(`unpacks to more than ${maxBytes} bytes (MLP_IMPORT_MAX_BYTES)`, [{ path: 'archive', message: 'too large' }]);
      if (entry.kind === 'manifest') {
        if (manifest) throw invalidArchive(`${MANIFEST_ENTRY} appears twice`);
        if (size > MAX_MANIFEST_BYTES) throw invalidArchive(`${MANIFEST_ENTRY} is larger than ${MAX_MANIFEST_BYTES} bytes`);
        manifest = parseManifest(await collect(stream));
        return;
      }
      if (!manifest) throw invalidArchive(`${MANIFEST_ENTRY} must be the first entry`, [{ path: 'entries', message: `${JSON.stringify(name.slice(0, 200))} came first` }]);
      if (entry.kind === 'events') {
        if (events) throw invalidArchive(`${EVENTS_ENTRY} appears twice`);
        if (size !== manifest.events.bytes || size > MAX_EVENTS_BYTES) throw invalidArchive(`${EVENTS_ENTRY} has ${size} bytes, the manifest says ${manifest.events.bytes}`);
        events = await collect(stream);
        if (sha256(events) !== manifest.events.sha256) throw invalidArchive(`${EVENTS_ENTRY} does not match the manifest's sha256 ${manifest.events.sha256}`, [{ path: EVENTS_ENTRY, message: 'sha256 mismatch' }]);
        return;
      }
      const listed = manifest.artifacts.find((a) => a.key === entry.key);
      if (!listed) throw invalidArchive(`entry ${name} is not listed in the manifest`, [{ path: 'entries', message: `${name} not in manifest.artifacts` }]);
      if (files.has(entry.key)) throw invalidArchive(`entry ${name} appears twice`);
      if (size !== listed.size) throw invalidArchive(`entry ${name} has ${size} bytes, the manifest says ${listed.size}`);
      const path = join(dir, `artifact-${files.size}`);
      const hash = createHash('sha256');
      await pipeline(stream, hashing(hash), createWriteStream(path));
      const actual = hash.digest('hex');
      if (actual !== listed.sha256) throw invalidArchive(`entry ${name} has sha256 ${actual}, not the ${listed.sha256} its key names: the archive was altered`, [{ path: name, message: 'sha256 mismatch' }]);
      files.set(entry.key, path);
    };
    handle().then(() => next(), (err: unknown) => {
      stream.resume();
      next(err);
    });
  });
  try {
    if (gzipped) await pipeline(createReadStream(file), createGunzip(), extract);
    else await pipeline(createReadStream(file), extract);
  } catch (err) {
    if (err instanceof DomainError) throw err;
    throw invalidArchive(`not a readable ${gzipped ? 'tar.gz' : 'tar'} archive: ${(err as Error).message}`);
  }
  if (!manifest) throw invalidArchive(`no ${MANIFEST_ENTRY}: not a run archive`);
  if (!events) throw invalidArchive(`no ${EVENTS_ENTRY}`);
  const missing = manifest.artifacts.filter((a) => !files.has(a.key)).map((a) => a.key);
  if (missing.length) throw invalidArchive(`the manifest lists ${missing.length} artifact(s) the archive does not carry: ${missing.slice(0, 5).join(', ')}`);
  return { manifest, events, files };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
