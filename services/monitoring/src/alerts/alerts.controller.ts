import { Controller, Get, Query } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { listAlertsQuerySchema, parseOrThrow, subjects, type RpcRequest } from '@mlp/contracts';
import { AlertsService } from './alerts.service';

@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({ summary: 'Alerts, newest first (?model, ?status=active|resolved|all, ?limit), with their webhook deliveries' })
  list(@Query() query: Record<string, string>) {
    return { alerts: this.alerts.list(parseOrThrow(listAlertsQuerySchema, query, 'query')) };
  }

  @MessagePattern(subjects.qry.monitoring.listAlerts)
  listRpc(@Payload() request: RpcRequest) {
    return { alerts: this.alerts.list(parseOrThrow(listAlertsQuerySchema, request?.payload ?? {}, 'payload')) };
  }
}
