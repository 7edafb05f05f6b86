import { Controller, Get, Query } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseOrThrow, subjects, type RpcRequest } from '@mlp/contracts';
import { HealthService } from './health.service';

const query = z.object({ fresh: z.enum(['true', 'false']).optional() }).strict();

@ApiTags('health')
@Controller('health')
export class SystemHealthController {
  constructor(private readonly health: HealthService) {}

  @Get('services')
  @ApiOperation({ summary: 'Per service: up, request rate, 5xx rate, latency p50/p95/p99, queue depths, serving per-model/version/arm series (?fresh=true scrapes now)' })
  async services(@Query() q: Record<string, string>) {
    const fresh = parseOrThrow(query, q, 'query').fresh === 'true';
    return { services: await this.health.services(fresh), ...(await this.health.processManagers()) };
  }

  @Get('process-managers')
  @ApiOperation({ summary: "Each process manager's checkpoint against the event store's head" })
  processManagers() {
    return this.health.processManagers();
  }

  @MessagePattern(subjects.qry.monitoring.serviceHealth)
  async servicesRpc(@Payload() request: RpcRequest) {
    const fresh = parseOrThrow(z.object({ fresh: z.boolean().optional() }).strict(), request?.payload ?? {}, 'payload').fresh === true;
    return { services: await this.health.services(fresh), ...(await this.health.processManagers()) };
  }
}
