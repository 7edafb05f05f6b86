// Test helpers (`@mlp/service-kit/testing`): for specs and fixtures only, never for the library's own index.
export * from './in-process-services.fixture';
