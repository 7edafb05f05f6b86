import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { InfrastructureError } from '@mlp/contracts';
import { Public } from '../auth/require-scopes.decorator';
import { ReadinessChecks, type ReadinessCheck } from './readiness-check';

/** A check that hangs counts as failed after this long. */
export const READINESS_CHECK_TIMEOUT_MS = 5_000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessChecks,
  ) {}

  /** Up while the process runs. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Runs every readiness check; 503 naming the failed ones. */
  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check(this.readiness.all.map((c) => () => this.run(c)));
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const failed = Object.keys(result.error ?? {});
      throw new InfrastructureError(`not ready: ${failed.join(', ')} failed`, {
        code: 'NOT_READY',
        details: result.details,
      });
    }
  }

  private async run(readiness: ReadinessCheck) {
    const indicator = this.indicators.check(readiness.name);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        readiness.check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_CHECK_TIMEOUT_MS} ms`)), READINESS_CHECK_TIMEOUT_MS);
        }),
      ]);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }
}
