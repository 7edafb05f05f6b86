/** The six services, their default embedded ports, and their env overrides. */
export const serviceNames = ['ingestion', 'feature-store', 'training', 'registry', 'serving', 'monitoring'] as const;
export type ServiceName = (typeof serviceNames)[number];

export const defaultPorts: Record<ServiceName, { http: number; rpc: number }> = {
  ingestion: { http: 7101, rpc: 7201 },
  'feature-store': { http: 7102, rpc: 7202 },
  training: { http: 7103, rpc: 7203 },
  registry: { http: 7104, rpc: 7204 },
  serving: { http: 7105, rpc: 7205 },
  monitoring: { http: 7106, rpc: 7206 },
};

/** `feature-store` → `FEATURE_STORE`, for env names like MLP_FEATURE_STORE_PORT. */
export function envKey(service: ServiceName): string {
  return service.toUpperCase().replace(/-/g, '_');
}

export function isServiceName(value: string): value is ServiceName {
  return (serviceNames as readonly string[]).includes(value);
}
