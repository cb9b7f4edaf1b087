/**
 * The gRPC listener of `serval serve` (`--grpc-port`, Triton's 8001): a grpc-js server with the
 * inference service and the standard health service, and the lifecycle the HTTP transport has (listen, stop accepting, wait until idle,
 * close) so that shutdown treats both protocols alike.
 */
import * as grpc from '@grpc/grpc-js';
import { createHealthService } from './health-service.js';
import { createInferenceService, type GrpcServiceContext, type InferenceService } from './inference-service.js';
import { healthServiceDefinition, inferenceServiceDefinition } from './proto.js';

export interface GrpcEndpointOptions extends GrpcServiceContext {
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
}

export class GrpcEndpoint {
  private shutdown: Promise<void> | undefined;

  private constructor(
    private readonly server: grpc.Server,
    private readonly service: InferenceService,
    readonly port: number,
  ) {}

  /** Binds `host:port` (0 picks a free port) and starts serving. */
  static async listen(options: GrpcEndpointOptions, host: string, port: number): Promise<GrpcEndpoint> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': -1,
      // Per-call channelz bookkeeping costs CPU on every request; serval exposes no channelz service.
      'grpc.enable_channelz': 0,
    });
    const service = createInferenceService(options);
    server.addService(inferenceServiceDefinition(), service.implementation);
    server.addService(healthServiceDefinition(), createHealthService(options));
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => {
        if (err) reject(new Error(`cannot listen for gRPC on ${address}: ${err.message}`));
        else resolve(p);
      });
    });
    return new GrpcEndpoint(server, service, bound);
  }

  /**
   * Refuses new calls (new connections and new calls on open ones); calls in progress go on, and open
   * ModelStreamInfer streams end once the requests they already took are answered.
   */
  stopAccepting(): void {
    if (this.shutdown) return;
    this.shutdown = new Promise((resolve) => this.server.tryShutdown(() => resolve()));
    this.service.endStreams();
  }

  /** Resolves true once every call in progress has finished, false after `timeoutMs`. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    this.stopAccepting();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.shutdown!.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends every call and connection now. */
  close(): void {
    this.server.forceShutdown();
  }
}
