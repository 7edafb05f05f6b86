import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/** Swagger UI at /docs and the document at /docs-json, built on first request. */
export function setupOpenApi(app: INestApplication, service: string, version = '0.1.0'): void {
  const config = new DocumentBuilder()
    .setTitle(`mlp ${service}`)
    .setDescription(`HTTP API of the ${service} service`)
    .setVersion(version)
    // Needed when auth is on (MLP_AUTH); /health, /metrics and /docs stay open.
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'api-key')
    .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'bearer')
    .addSecurityRequirements('api-key')
    .addSecurityRequirements('bearer')
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config));
}
