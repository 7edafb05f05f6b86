import { subjects, type ServiceName } from '@mlp/contracts';
import type { MlpClient } from '@mlp/messaging';

/** One dependency the service needs before it takes traffic (event store, transport, ...). */
export interface ReadinessCheck {
  /** Names the check in /health/ready output and errors. */
  name: string;
  /** Resolves when ready, rejects (with a reason) when not. */
  check(): Promise<void>;
}

/** The readiness checks of one app; filled by bootstrapService, extended by service modules through `add`. */
export class ReadinessChecks {
  private checks: readonly ReadinessCheck[] = [];

  set(checks: readonly ReadinessCheck[]): void {
    const names = checks.map((c) => c.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) throw new Error(`duplicate readiness check name "${duplicate}"`);
    this.checks = [...checks];
  }

  /** Adds a check a service module owns (e.g. serving's `models`); a name already present is refused. */
  add(check: ReadinessCheck): void {
    this.set([...this.checks, check]);
  }

  get all(): readonly ReadinessCheck[] {
    return this.checks;
  }
}

/** Readiness of the transport: the service answers its own ping over the wire. */
export function transportReadiness(client: MlpClient, service: ServiceName, timeoutMs = 2_000): ReadinessCheck {
  return {
    name: 'transport',
    async check() {
      await client.send(subjects.qry.ping(service), {}, undefined, { timeoutMs });
    },
  };
}
