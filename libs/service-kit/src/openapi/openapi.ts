import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/** Swagger UI at /docs and the document at /docs-json, built on first request. */
export function setupOpenApi(app: INestApplication, service: string, version = '0.1.0'): void {
  const config = new DocumentBuilder()
    .setTitle(`mlp ${service}`)
    .setDescription(`HTTP API of the ${service} service`)
    .setVersion(version)
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config));
}
