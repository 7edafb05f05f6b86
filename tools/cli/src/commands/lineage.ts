import { call, callTextGet, UsageError } from '../api';
import { printJson } from '../output';

const USAGE = 'usage: mlp lineage model <name> <version> [--json] | mlp lineage dataset <name> <version> [--json] | mlp lineage model <name> <version> --openlineage';

/**
 * `mlp lineage model <name> <v>`: the version's lineage as a printed tree (dataset sha256, quality and
 * quarantine → feature views → run → version → aliases), `--json` for the graph, `--openlineage` for
 * OpenLineage run events; `mlp lineage dataset <name> <v>`: the model versions trained on it.
 */
export async function lineage(args: string[], json: boolean): Promise<void> {
  const openLineage = args.includes('--openlineage');
  const [kind, name, version, ...extra] = args.filter((a) => a !== '--openlineage');
  if (!name || !version || extra.length > 0 || !/^\d+$/.test(version)) throw new UsageError(USAGE);
  const enc = encodeURIComponent;
  if (kind === 'model') {
    const path = `/lineage/models/${enc(name)}/versions/${version}`;
    if (openLineage) return printJson(await call('registry', 'GET', `${path}/openlineage`));
    if (json) return printJson(await call('registry', 'GET', path));
    process.stdout.write(await callTextGet('registry', `${path}?format=tree`));
    return;
  }
  if (kind === 'dataset') {
    const result = await call<{ models: { name: string; version: number; aliases: string[] }[] }>('registry', 'GET', `/lineage/datasets/${enc(name)}/versions/${version}/models`);
    if (json) return printJson(result);
    if (result.models.length === 0) console.log(`no model version was trained on ${name} v${version}`);
    for (const m of result.models) console.log(`${m.name} v${m.version}${m.aliases.length ? ` (${m.aliases.join(', ')})` : ''}`);
    return;
  }
  throw new UsageError(USAGE);
}
