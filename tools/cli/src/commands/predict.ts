import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { v2ContentsField } from '@mlp/contracts';
import { CliError, call, requestHeaders, serviceUrl, UsageError } from '../api';
import { formatNumber, printJson, printTable } from '../output';

const USAGE = `usage: mlp predict <model[@alias|:version]> --input <rows.json|rows.ndjson|rows.csv> [--grpc] [--json]`;

interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}
export interface ModelMetadata {
  name: string;
  versions: string[];
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** What `mlp predict` prints with --json, whichever protocol carried it (the JSON API's shape). */
export interface PredictOutput {
  predictions: unknown[];
  probabilities?: number[][];
  model: string;
  version: string;
  request_id: string;
}

/**
 * `mlp predict`: rows from a JSON array (or `{instances}`), NDJSON or CSV
 * file, sent to `POST /v1/models/{m}:predict`, or with `--grpc` as V2
 * tensors to `inference.GRPCInferenceService/ModelInfer` (client built from
 * the proto by @grpc/proto-loader). CSV cells are typed from the model's V2
 * metadata. Prints one row per instance, or the JSON API's answer with --json.
 */
export async function predict(args: string[], json: boolean): Promise<void> {
  let parsed: { values: { input?: string; grpc?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { input: { type: 'string' }, grpc: { type: 'boolean' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const [model] = parsed.positionals;
  if (!model || parsed.positionals.length > 1) throw new UsageError(`one model is needed\n${USAGE}`);
  if (!parsed.values.input) throw new UsageError(`--input is required\n${USAGE}`);
  const path = parsed.values.input;
  const ext = extname(path).toLowerCase();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const needsMetadata = ext === '.csv' || parsed.values.grpc;
  const metadata = needsMetadata ? await call<ModelMetadata>('serving', 'GET', `/v2/models/${encodeURIComponent(model)}`) : undefined;
  const rows = ext === '.csv' ? parseCsv(text, metadata!) : parseJsonRows(text, ext, path);
  if (rows.length === 0) throw new CliError(`${path} holds no rows`);
  const out = parsed.values.grpc ? await predictGrpc(model, rows, metadata!) : await call<PredictOutput>('serving', 'POST', `/v1/models/${encodeURIComponent(model)}:predict`, { instances: rows });
  if (json) return printJson(out);
  console.log(`${out.model} version ${out.version}  (request ${out.request_id})`);
  printTable(
    out.predictions.map((p, i) => ({ row: i, prediction: p, probability: out.probabilities ? formatNumber(Math.max(...out.probabilities[i])) : '' })),
    out.probabilities ? ['row', 'prediction', 'probability'] : ['row', 'prediction'],
    { right: ['row', 'probability'] },
  );
}

function parseJsonRows(text: string, ext: string, path: string): Record<string, unknown>[] {
  try {
    if (ext === '.ndjson' || ext === '.jsonl') return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    const value = JSON.parse(text) as unknown;
    const rows = Array.isArray(value) ? value : (value as { instances?: unknown })?.instances;
    if (!Array.isArray(rows)) throw new Error('expected an array of rows or {"instances": [...]}');
    return rows as Record<string, unknown>[];
  } catch (err) {
    throw new CliError(`${path} is not JSON rows: ${(err as Error).message}`);
  }
}

/** CSV with a header; cells typed by the model's inputs (numbers, booleans, text); an empty cell is null. */
export function parseCsv(text: string, metadata: ModelMetadata): Record<string, unknown>[] {
  const lines = splitCsvLines(text);
  if (lines.length === 0) return [];
  const header = lines[0];
  const types = new Map(metadata.inputs.map((i) => [i.name, i.datatype]));
  return lines.slice(1).map((cells, r) => {
    const row: Record<string, unknown> = {};
    header.forEach((column, j) => {
      const cell = cells[j] ?? '';
      const type = types.get(column);
      if (cell === '') row[column] = null;
      else if (type === 'BOOL') row[column] = cell.toLowerCase() === 'true' ? true : cell.toLowerCase() === 'false' ? false : cell;
      else if (type && type !== 'BYTES') {
        const n = Number(cell);
        if (Number.isNaN(n)) throw new CliError(`row ${r + 1}, column '${column}': '${cell}' is not a number`);
        row[column] = n;
      } else if (type === undefined && cell.trim() !== '' && !Number.isNaN(Number(cell))) row[column] = Number(cell);
      else row[column] = cell;
    });
    return row;
  });
}

function splitCsvLines(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      if (row.length > 1 || row[0] !== '') out.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    out.push(row);
  }
  return out;
}

/** host:port of serving's gRPC: MLP_SERVING_GRPC_URL, else serving's host with MLP_SERVING_GRPC_PORT (default: its HTTP port + 10). */
export function grpcTarget(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MLP_SERVING_GRPC_URL) return env.MLP_SERVING_GRPC_URL.replace(/^grpc:\/\//, '');
  const http = new URL(serviceUrl('serving', env));
  const port = env.MLP_SERVING_GRPC_PORT || String(Number(http.port || 80) + 10);
  return `${http.hostname}:${port}`;
}

const CONTENTS: Record<string, string> = v2ContentsField;

type V2Client = grpc.Client & { ModelInfer(req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: unknown) => void): void };

export async function predictGrpc(model: string, rows: Record<string, unknown>[], metadata: ModelMetadata): Promise<PredictOutput> {
  const proto = join(__dirname, '../../../../services/serving/proto/grpc_predict_v2.proto');
  const definition = protoLoader.loadSync(proto, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  const target = grpcTarget();
  const client = new pkg.inference.GRPCInferenceService(target, grpc.credentials.createInsecure()) as unknown as V2Client;
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(requestHeaders())) md.set(k, v);
  const inputs = metadata.inputs.map((i) => {
    const values = rows.map((r) => r[i.name] ?? null);
    const field = CONTENTS[i.datatype];
    const data = i.datatype === 'BYTES' ? values.map((v) => Buffer.from(v === null ? '' : String(v))) : values.map((v) => (v === null ? (i.datatype.startsWith('FP') ? NaN : 0) : v));
    return { name: i.name, datatype: i.datatype, shape: [rows.length], contents: { [field]: data } };
  });
  try {
    const res = await new Promise<{ model_version: string; id: string; outputs: { name: string; datatype: string; shape: number[]; contents: Record<string, unknown[]> }[] }>((resolve, reject) =>
      client.ModelInfer({ model_name: model, inputs }, md, (err, out) => (err ? reject(err) : resolve(out as never))),
    );
    const [prediction, probabilities] = res.outputs;
    const predictions = (prediction.contents[CONTENTS[prediction.datatype]] ?? []).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
    let probs: number[][] | undefined;
    if (probabilities) {
      const flat = probabilities.contents.fp32_contents as number[];
      const k = probabilities.shape[1] ?? 1;
      probs = predictions.map((_, i) => (k === 1 ? [1 - flat[i], flat[i]] : flat.slice(i * k, (i + 1) * k)));
    }
    return { predictions, ...(probs ? { probabilities: probs } : {}), model: model.split(/[@:]/)[0], version: res.model_version, request_id: res.id };
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.UNAVAILABLE && /connect|No connection/i.test(e.details ?? '')) {
      throw new CliError(`nothing answers gRPC at ${target}: start the platform (\`npx mlp up\`) or set MLP_SERVING_GRPC_URL`);
    }
    throw new CliError(`gRPC ${grpc.status[e.code] ?? e.code}: ${e.details ?? e.message}`);
  } finally {
    client.close();
  }
}
