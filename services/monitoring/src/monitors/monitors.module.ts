import { Module } from '@nestjs/common';
import { MonitorsController } from './monitors.controller';
import { MonitorsService } from './monitors.service';

@Module({ controllers: [MonitorsController], providers: [MonitorsService] })
export class MonitorsModule {}
