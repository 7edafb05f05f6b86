export * from './request-context';
export * from './messaging-config';
export * from './transport-options';
export * from './nats-auth';
export * from './rpc-errors';
export * from './mlp-client';
export * from './messaging.module';
