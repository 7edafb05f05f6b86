import { isServiceName, serviceNames, type ProjectionsReport, type ServiceName } from '@mlp/contracts';
import { call, UsageError } from '../api';
import { printJson, printTable } from '../output';

const USAGE = 'usage: mlp replay projections [--service <name>] [--json]';

/**
 * `mlp replay projections`: every service rebuilds each of its read models
 * from the log (an empty start, fed up to the live position) and compares it
 * with the live one. Exit 0 when all are equal, 3 on any difference.
 */
export async function replayProjections(args: string[], json: boolean): Promise<number> {
  const services = selectedServices(args);
  const reports: ProjectionsReport[] = [];
  for (const service of services) reports.push(await call<ProjectionsReport>(service, 'POST', '/admin/projections/verify'));
  const differing = reports.flatMap((r) => r.projections.filter((p) => !p.equal).map((p) => ({ service: r.service, ...p })));
  if (json) {
    printJson({ equal: differing.length === 0, services: reports });
  } else {
    printTable(
      reports.flatMap((r) => r.projections.map((p) => ({ service: r.service, projection: p.name, version: p.version, position: p.position, events: p.events, equal: p.equal ? 'yes' : 'NO' }))),
      ['service', 'projection', 'version', 'position', 'events', 'equal'],
      { right: ['version', 'position', 'events'] },
    );
    for (const d of differing) {
      console.log(`\n${d.service} ${d.name}: live read model differs from its rebuild at`);
      for (const x of d.diff ?? []) console.log(`  ${x.path}: live ${x.live}, rebuilt ${x.rebuilt}`);
    }
    const count = reports.reduce((n, r) => n + r.projections.length, 0);
    console.log(differing.length === 0 ? `\nall ${count} read models equal their rebuild from the log` : `\n${differing.length} of ${count} read models differ`);
  }
  return differing.length === 0 ? 0 : 3;
}

function selectedServices(args: string[]): ServiceName[] {
  const i = args.indexOf('--service');
  if (i < 0) {
    if (args.some((a) => a.startsWith('--service='))) return selectedServices(args.flatMap((a) => (a.startsWith('--service=') ? ['--service', a.slice(10)] : [a])));
    return [...serviceNames];
  }
  const name = args[i + 1];
  if (!name || !isServiceName(name)) throw new UsageError(`${USAGE}\n--service is one of ${serviceNames.join(', ')}`);
  return [name];
}
