/**
 * The pids `mlp up --distributed` printed: its six services (the last column
 * of its service table) and the nats-server it started (none when NATS_URL was given).
 */
export function distributedPids(out: string): number[] {
  const services = [...out.matchAll(/^[a-z-]+ +http:\/\/\S+ +http:\/\/\S+\/docs +(\d+)$/gm)].map((m) => Number(m[1]));
  const nats = [...out.matchAll(/nats-server -js started here, pid (\d+)/g)].map((m) => Number(m[1]));
  return [...services, ...nats];
}
