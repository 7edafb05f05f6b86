import { Controller, Get, Param, Query } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { compareArmsQuerySchema, driftHistoryQuerySchema, parseOrThrow, performanceHistoryQuerySchema, subjects, type ArmComparison, type RpcRequest } from '@mlp/contracts';
import { compareArms } from '../performance/arm-comparison';
import { TelemetryMonitorService } from '../windows/telemetry-monitor.service';

/** What the dashboard and `mlp monitor` read: drift over time per feature, performance per version and arm, the arm comparison. */
@ApiTags('monitoring')
@Controller('monitoring')
export class MonitoringQueriesController {
  constructor(private readonly monitor: TelemetryMonitorService) {}

  @Get(':model/drift')
  @ApiOperation({ summary: 'Drift reports over time (?feature= for one feature, ?version=, ?from=&to=, ?limit=)' })
  drift(@Param('model') model: string, @Query() query: Record<string, unknown>) {
    return this.monitor.history.driftHistory(parseOrThrow(driftHistoryQuerySchema, { ...query, model }, 'query'));
  }

  @Get(':model/performance')
  @ApiOperation({ summary: 'Performance windows over time (?version=, ?arm=, ?from=&to=, ?limit=)' })
  performance(@Param('model') model: string, @Query() query: Record<string, unknown>) {
    return this.monitor.history.performanceHistory(parseOrThrow(performanceHistoryQuerySchema, { ...query, model }, 'query'));
  }

  @Get(':model/arms')
  @ApiOperation({ summary: "The latest window of each arm compared on accuracy (pooled two-proportion z-test), with the winner when significant" })
  arms(@Param('model') model: string, @Query() query: Record<string, unknown>): ArmComparison {
    const q = parseOrThrow(compareArmsQuerySchema, { ...query, model }, 'query');
    return compareArms(this.monitor.history.latestArms(q.model), q.alpha);
  }

  @MessagePattern(subjects.qry.monitoring.driftHistory)
  driftRpc(@Payload() request: RpcRequest) {
    return this.monitor.history.driftHistory(parseOrThrow(driftHistoryQuerySchema, request?.payload, 'payload'));
  }

  @MessagePattern(subjects.qry.monitoring.performanceHistory)
  performanceRpc(@Payload() request: RpcRequest) {
    return this.monitor.history.performanceHistory(parseOrThrow(performanceHistoryQuerySchema, request?.payload, 'payload'));
  }

  @MessagePattern(subjects.qry.monitoring.compareArms)
  armsRpc(@Payload() request: RpcRequest): ArmComparison {
    const q = parseOrThrow(compareArmsQuerySchema, request?.payload, 'payload');
    return compareArms(this.monitor.history.latestArms(q.model), q.alpha);
  }
}
