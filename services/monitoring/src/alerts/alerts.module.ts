import { Module } from '@nestjs/common';
import { SERVICE_CONFIG, type BaseConfig } from '@mlp/service-kit';
import { ALERTS_CONFIG, loadAlertsConfig } from './alerts-config';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

@Module({
  controllers: [AlertsController],
  providers: [{ provide: ALERTS_CONFIG, useFactory: (base: BaseConfig) => loadAlertsConfig(process.env, base.MLP_TRANSPORT), inject: [SERVICE_CONFIG] }, AlertsService],
})
export class AlertsModule {}
