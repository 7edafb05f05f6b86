import { Controller, Get, Param } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { getRegisteredModelSchema, parseOrThrow, subjects, type RpcRequest } from '@mlp/contracts';
import { MonitorsService } from './monitors.service';
import type { MonitorView } from './monitors.projection';

@ApiTags('monitors')
@Controller('monitors')
export class MonitorsController {
  constructor(private readonly monitors: MonitorsService) {}

  @Get()
  @ApiOperation({ summary: 'List monitors' })
  list(): { monitors: MonitorView[] } {
    return { monitors: this.monitors.list() };
  }

  @Get(':model')
  @ApiOperation({ summary: "A model's monitor, with the registered model from the registry" })
  get(@Param('model') model: string) {
    return this.monitors.describe(parseOrThrow(getRegisteredModelSchema, { name: model }, 'path').name);
  }

  @MessagePattern(subjects.qry.monitoring.getMonitor)
  getRpc(@Payload() request: RpcRequest): MonitorView {
    return this.monitors.get(parseOrThrow(getRegisteredModelSchema, request?.payload, 'payload').name);
  }
}
