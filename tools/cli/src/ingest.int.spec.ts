import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QualityReport } from '@mlp/data';
import { repoRoot } from '@mlp/testing';
import { mlp, startCliPlatform, type CliPlatform } from './cli-platform.fixture';

const penguins = join(repoRoot, 'examples/data/penguins.csv');
const penguinsSchema = join(repoRoot, 'examples/data/penguins.schema.yaml');

/** `mlp ingest` and `mlp datasets` against the embedded platform started in this process. */
describe('mlp ingest and mlp datasets (embedded platform)', () => {
  jest.setTimeout(120_000);
  let cli: CliPlatform;
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    cli = await startCliPlatform('ingest');
    ({ home, env } = cli);
  });

  afterAll(async () => cli?.close());

  let first: { status: number | null; stdout: string; stderr: string };

  it('ingests the penguins file, prints exactly the agreed JSON, and the second time says duplicate', async () => {
    first = await mlp(['ingest', penguins, '--dataset', 'penguins', '--schema', penguinsSchema, '--null', 'NA', '--json'], env);
    const out = JSON.parse(first.stdout);
    expect(Object.keys(out)).toEqual(['dataset', 'version', 'status', 'rows', 'accepted', 'quarantined', 'artifact', 'sha256', 'quarantineArtifact']);
    expect(out).toMatchObject({ dataset: 'penguins', version: 1, rows: 344 });
    expect(out.accepted + out.quarantined).toBe(out.rows);
    expect(out.artifact).toBe(`sha256/${out.sha256}`);
    expect(['accepted', 'rejected']).toContain(out.status);
    expect(first.status).toBe(out.status === 'accepted' ? 0 : 3);
    expect(first.stderr).toBe('');

    const again = await mlp(['ingest', penguins, '--dataset', 'penguins', '--null', 'NA', '--json'], env);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ ...out, status: 'duplicate' });

    const human = await mlp(['ingest', penguins, '--dataset', 'penguins'], env);
    expect(human.status).toBe(0);
    expect(human.stdout.split('\n')[0]).toBe('dataset penguins: duplicate of version 1 (the same bytes were ingested before; no new version)');
  });

  it('passes --null NA to the service: only the two rows with nothing measured are quarantined', () => {
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'accepted', rows: 344, accepted: 342, quarantined: 2 });
    expect(first.status).toBe(0);
  });

  it('shows the quality report of a version as JSON and as a table', async () => {
    const json = await mlp(['datasets', 'penguins', '--version', '1', '--json'], env);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as QualityReport;
    expect(report.rows).toBe(344);
    expect(report.accepted + report.quarantined).toBe(344);
    expect(report.columns.map((c) => c.name)).toEqual(['species', 'island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex']);
    expect(report.checks.map((c) => c.check)).toContain('maxQuarantinedFraction');

    const table = await mlp(['datasets', 'penguins', '--version', '1'], env);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^penguins v1: (accepted|rejected), 344 rows: \d+ accepted, \d+ quarantined$/);
    expect(lines[1]).toMatch(/^NAME +TYPE +COUNT +MISSING +DISTINCT +MIN +MAX +MEAN +STD +TOP VALUES$/);
    expect(lines.find((l) => l.startsWith('species '))).toMatch(/category .*Adelie \d+, Gentoo \d+, Chinstrap \d+$/);
    expect(lines).toContain('checks:');

    const list = await mlp(['datasets', '--json'], env);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((d) => d.name)).toContain('penguins');
    const versions = await mlp(['datasets', 'penguins'], env);
    expect(versions.stdout.split('\n')[1]).toMatch(/^VERSION +STATUS +ROWS +ACCEPTED +QUARANTINED +SCHEMA CHANGES +FAILED CHECKS +CREATED$/);
  });

  it('reports schema errors with their file, line and field, and exits 1', async () => {
    const bad = join(home, 'bad.schema.yaml');
    writeFileSync(bad, 'dataset: penguins\ncolumns:\n  species: {type: category, values: [Adelie]}\n  bill_length_mm: {type: float, min: ten}\n');
    const r = await mlp(['ingest', penguins, '--dataset', 'penguins', '--schema', bad], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: invalid dataset schema in ${bad}:\n  ${bad}:4:38 columns.bill_length_mm.min: expected number, received "ten"\n`);
  });

  it('uploads a file outside the roots, which the HTTP API itself refuses to read by path; reads one in the inbox in place', async () => {
    const sources = async (dataset: string) =>
      (await cli.platform.services[0].runtime.eventStore.readAll())
        .filter((e) => e.type === 'IngestionStarted' && (e.data as { dataset: string }).dataset === dataset)
        .map((e) => (e.data as { source: { kind: string } }).source.kind);
    const outside = mkdtempSync(join(tmpdir(), 'mlp-cli-outside-'));
    try {
      const file = join(outside, 'scores.csv');
      writeFileSync(file, 'id,score\n1,0.5\n2,0.7\n');
      const api = await fetch(`${cli.platform.services[0].url}/datasets/scores/ingestions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: { kind: 'file', path: file }, wait: true }),
      });
      expect(api.status).toBe(403);
      expect(await api.json()).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
      expect(await sources('scores')).toEqual([]);

      const uploaded = await mlp(['ingest', file, '--dataset', 'scores', '--json'], env);
      expect(uploaded.status).toBe(0);
      expect(JSON.parse(uploaded.stdout)).toMatchObject({ dataset: 'scores', version: 1, status: 'accepted', rows: 2 });
      expect(await sources('scores')).toEqual(['upload']);

      // In the inbox (<MLP_HOME>/inbox, the platform's default root): read in place, not copied.
      const inboxFile = join(home, 'inbox', 'scores2.csv');
      writeFileSync(inboxFile, 'id,score\n3,0.1\n');
      const inPlace = await mlp(['ingest', inboxFile, '--dataset', 'scores', '--json'], env);
      expect(JSON.parse(inPlace.stdout)).toMatchObject({ version: 2, status: 'accepted', rows: 1 });
      expect(await sources('scores')).toEqual(['upload', 'file']);

      // A CLI that believes the platform reads `outside` (its own MLP_INGEST_ROOTS) is refused, then uploads.
      writeFileSync(join(outside, 'scores3.csv'), 'id,score\n4,0.9\n');
      const fallback = await mlp(['ingest', join(outside, 'scores3.csv'), '--dataset', 'scores', '--json'], { ...env, MLP_INGEST_ROOTS: outside });
      expect(fallback.stderr).toBe('');
      expect(JSON.parse(fallback.stdout)).toMatchObject({ version: 3, status: 'accepted', rows: 1 });
      expect(await sources('scores')).toEqual(['upload', 'file', 'upload']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('writes an inferred schema and ingests nothing', async () => {
    const out = join(home, 'inferred.yaml');
    const r = await mlp(['ingest', penguins, '--dataset', 'birds', '--infer-schema', out], env);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`wrote the inferred schema of 'birds' (7 columns) to ${out}`);
    const list = await mlp(['datasets', '--json'], env);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((d) => d.name)).not.toContain('birds');
  });
});
