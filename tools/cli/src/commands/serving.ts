import { call, UsageError } from '../api';
import { formatNumber, printJson, printTable } from '../output';

interface ServingStatus {
  instance: string;
  ready: boolean;
  memory: { rssBytes: number; heapUsedBytes: number; externalBytes: number };
  models: { name: string; version: string; aliases: string[]; backend: string; loadedAt: string; weightsBytes: number; requests: number; requestsPerSecond: number; inflight: number; queueDepth: number }[];
  routes: { name: string; alias: string; version: number | null; error?: string }[];
}

const USAGE = 'usage: mlp serving status [--json]';

const mib = (bytes: number) => `${formatNumber(bytes / 1024 / 1024)} MiB`;

/** `mlp serving status`: loaded versions with their aliases, memory and request rates; aliases that are not served and why. */
export async function serving(args: string[], json: boolean): Promise<void> {
  const [sub] = args;
  if (sub !== 'status' && sub !== undefined) throw new UsageError(`unknown serving command '${sub}'\n${USAGE}`);
  const status = await call<ServingStatus>('serving', 'GET', '/v1/serving/status');
  if (json) return printJson(status);
  console.log(`${status.instance}: ${status.ready ? 'ready' : 'not ready'}, RSS ${mib(status.memory.rssBytes)}, heap ${mib(status.memory.heapUsedBytes)}`);
  printTable(
    status.models.map((m) => ({
      model: m.name,
      version: m.version,
      aliases: m.aliases.join(','),
      backend: m.backend,
      weights: mib(m.weightsBytes),
      'req/s': formatNumber(m.requestsPerSecond),
      requests: m.requests,
      inflight: m.inflight,
      queue: m.queueDepth,
      loaded: m.loadedAt,
    })),
    ['model', 'version', 'aliases', 'backend', 'weights', 'req/s', 'requests', 'inflight', 'queue', 'loaded'],
    { right: ['version', 'weights', 'req/s', 'requests', 'inflight', 'queue'] },
  );
  for (const r of status.routes.filter((x) => x.version === null)) console.log(`${r.name}@${r.alias}: not served${r.error ? ` (${r.error})` : ''}`);
}
