import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UsageError } from '../api';
import { download, downloadStatus } from '../download';
import { streamBody } from '../ingestion-client';
import { printJson } from '../output';

interface ImportResult {
  runId: string;
  streams: { stream: string; archived: number; present: number; appended: number; kept?: boolean }[];
  events: { archived: number; present: number; appended: number };
  artifacts: { archived: number; present: number; uploaded: number };
  notFollowed: { ref: string; reason: string }[];
}

/** `mlp export run <id> --output run.tar.gz|run.tar`: the run, its lineage's events and their artifacts as one archive. */
export async function exportRun(args: string[], json: boolean): Promise<number> {
  const i = args.indexOf('--output');
  const output = i >= 0 ? args[i + 1] : undefined;
  const [what, id] = args.filter((a, k) => !a.startsWith('--') && k !== i + 1);
  if (what !== 'run' || !id || !output) throw new UsageError('usage: mlp export run <run id> --output <run.tar.gz|run.tar> [--json]');
  const gzip = !/\.tar$/.test(output);
  const done = await download('training', `/runs/${encodeURIComponent(id)}/export${gzip ? '' : '?gzip=false'}`, output, { status: downloadStatus(json), label: 'exporting run' });
  if (json) printJson({ runId: id, output: done.output, bytes: done.bytes, sha256: done.sha256 });
  else console.log(`exported run ${id} to ${done.output} (${done.bytes} bytes, sha256 ${done.sha256})`);
  return 0;
}

/** `mlp import <archive>`: restores a run archive into the platform the CLI points at (admin key); importing again is a no-op. */
export async function importArchive(args: string[], json: boolean): Promise<number> {
  const [file] = args.filter((a) => !a.startsWith('--'));
  if (!file) throw new UsageError('usage: mlp import <run.tar.gz|run.tar> [--json]');
  const size = (await stat(file)).size;
  const r = (await streamBody('POST', '/runs/import', createReadStream(file), size, process.env, undefined, 'training')) as ImportResult;
  if (json) {
    printJson(r);
    return 0;
  }
  console.log(
    `imported run ${r.runId}: ${r.events.appended} event(s) appended, ${r.events.present} already there; ` +
      `${r.artifacts.uploaded} artifact(s) uploaded, ${r.artifacts.present} already there`,
  );
  for (const s of r.streams) console.log(`  ${s.stream}: ${s.kept ? `kept the target's (${s.present} event(s))` : `${s.appended} appended, ${s.archived - s.appended} present`}`);
  for (const n of r.notFollowed) console.log(`  not carried: ${n.ref} (${n.reason})`);
  console.log(`replay it here with: mlp replay run ${r.runId}`);
  return 0;
}
