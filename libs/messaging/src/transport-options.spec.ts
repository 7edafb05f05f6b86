import { Transport } from '@nestjs/microservices';
import { defaultPorts } from '@mlp/contracts';
import { messagingConfigSchema, rpcPortVar } from './messaging-config';
import { queueGroup, transportOptions } from './transport-options';

describe('transportOptions', () => {
  it('defaults to TCP on localhost at the service rpc port', () => {
    expect(transportOptions('registry', {})).toEqual({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: defaultPorts.registry.rpc },
    });
  });

  it('takes the rpc port override from MLP_<ENVKEY>_RPC_PORT', () => {
    const config = messagingConfigSchema.parse({ MLP_FEATURE_STORE_RPC_PORT: '9123' });
    expect(rpcPortVar('feature-store')).toBe('MLP_FEATURE_STORE_RPC_PORT');
    expect(transportOptions('feature-store', config)).toMatchObject({ options: { port: 9123 } });
    expect(transportOptions('registry', config)).toMatchObject({ options: { port: defaultPorts.registry.rpc } });
  });

  it('uses NATS with a queue group per service when MLP_TRANSPORT=nats', () => {
    const config = messagingConfigSchema.parse({ MLP_TRANSPORT: 'nats', NATS_URL: 'nats://a:4222, nats://b:4222' });
    expect(queueGroup('serving')).toBe('mlp.serving');
    expect(transportOptions('serving', config)).toMatchObject({
      transport: Transport.NATS,
      options: { servers: ['nats://a:4222', 'nats://b:4222'], queue: 'mlp.serving', maxReconnectAttempts: -1 },
    });
  });

  it('rejects a bad port and an unknown transport', () => {
    const result = messagingConfigSchema.safeParse({ MLP_REGISTRY_RPC_PORT: 'abc', MLP_TRANSPORT: 'kafka' });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining(['MLP_REGISTRY_RPC_PORT: expected a port number, got "abc"', expect.stringMatching(/^MLP_TRANSPORT: /)]),
    );
  });
});
