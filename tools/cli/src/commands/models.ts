import { parseArgs } from 'node:util';
import type { RegisteredModelView } from '@mlp/contracts';
import { call } from '../api';
import { printJson, printTable } from '../output';

/** `mlp models [name]` and `mlp models create <name> [--description d] [--tag k=v]`. */
export async function models(args: string[], json: boolean): Promise<void> {
  if (args[0] === 'create') return create(args.slice(1), json);
  if (args[0]) {
    const model = await call<RegisteredModelView>('registry', 'GET', `/models/${encodeURIComponent(args[0])}`);
    if (json) return printJson(model);
    return printTable([{ ...model, tags: formatTags(model.tags) }], ['name', 'description', 'tags', 'createdAt', 'updatedAt']);
  }
  const { models: list } = await call<{ models: RegisteredModelView[] }>('registry', 'GET', '/models');
  if (json) return printJson(list);
  printTable(list.map((m) => ({ ...m, tags: formatTags(m.tags) })), ['name', 'description', 'tags', 'updatedAt']);
}

async function create(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { description: { type: 'string' }, tag: { type: 'string', multiple: true } },
  });
  if (positionals.length !== 1) throw new Error('usage: mlp models create <name> [--description text] [--tag key=value]...');
  const tags: Record<string, string> = {};
  for (const t of values.tag ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`--tag must be key=value, got '${t}'`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const model = await call<RegisteredModelView>('registry', 'POST', '/models', { name: positionals[0], description: values.description, tags });
  if (json) return printJson(model);
  console.log(`created registered model '${model.name}'`);
}

function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
