/**
 * Loads serval's copy of the Open Inference Protocol v2 gRPC definition (proto/grpc_service.proto at the
 * package root) and the standard health checking service (proto/health.proto) once, for the server and for
 * clients (tests, `serval bench --protocol grpc`). Field names
 * keep the protocol's snake_case; 64-bit integers are decimal strings (exact, never rounded through a
 * double); enums are their names; absent scalar and repeated fields read as their defaults.
 */
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICE_NAME = 'inference.GRPCInferenceService';
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** The folder with grpc_service.proto: found upwards from this file (src/ under tsx, dist/src/ when built). */
export function protoDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'grpc_service.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('serval cannot find proto/grpc_service.proto next to its installation');
}

let cached: PackageDefinition | undefined;

export function inferencePackageDefinition(): PackageDefinition {
  cached ??= loadSync(['grpc_service.proto', 'health.proto'], {
    includeDirs: [protoDirectory()],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return cached;
}

/** The service definition `grpc.Server.addService` takes. */
export function inferenceServiceDefinition(): grpc.ServiceDefinition {
  return inferencePackageDefinition()[SERVICE_NAME] as grpc.ServiceDefinition;
}

/** The definition of `grpc.health.v1.Health`. */
export function healthServiceDefinition(): grpc.ServiceDefinition {
  return inferencePackageDefinition()[HEALTH_SERVICE_NAME] as grpc.ServiceDefinition;
}

/** A client constructor for `grpc.health.v1.Health`. */
export function healthClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeClientConstructor(healthServiceDefinition(), HEALTH_SERVICE_NAME);
}

/** A client constructor for `inference.GRPCInferenceService` (methods named as in the .proto). */
export function inferenceClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeClientConstructor(inferenceServiceDefinition(), SERVICE_NAME);
}
