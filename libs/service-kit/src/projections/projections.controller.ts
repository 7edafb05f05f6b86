import { Controller, HttpCode, Inject, Post, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { subjects, type ProjectionsReport, type ServiceName } from '@mlp/contracts';
import { RequireScopes } from '../auth/require-scopes.decorator';
import { ProjectionCatalog } from './projection-catalog';

/** `POST /admin/projections/verify` and its NATS twin on every service; needs `admin` when auth is on. */
export function projectionsControllerFor(service: ServiceName): Type<unknown> {
  @ApiTags('admin')
  @Controller('admin/projections')
  @RequireScopes('admin')
  class ProjectionsController {
    constructor(@Inject(ProjectionCatalog) readonly catalog: ProjectionCatalog) {}

    @Post('verify')
    @HttpCode(200)
    @ApiOperation({ summary: "Rebuild each of this service's read models from the log and compare it with the live one" })
    async verify(): Promise<ProjectionsReport> {
      return { service, projections: await this.catalog.verify() };
    }

    @MessagePattern(subjects.admin.verifyProjections(service))
    verifyOverTransport(): Promise<ProjectionsReport> {
      return this.verify();
    }
  }
  return ProjectionsController;
}
