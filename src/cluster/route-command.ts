/**
 * `serval route --upstream URL ... | --upstream-dns NAME:PORT [--policy P] [--admission A] [--http-port N]`:
 * serves the v2 API (health, metadata, config, infer, stats, metrics; gRPC with --grpc-port) in front of
 * serval replicas, placing each request on a replica with the native placement and admission policies.
 * Exit codes: 2 bad usage, 1 startup failure; once serving it runs until SIGTERM/SIGINT (graceful drain).
 */
import { Command, CommanderError } from 'commander';
import { ServalError } from '../errors.js';
import { createLogger } from '../server/logger.js';
import { startServer } from '../server/server.js';
import { servalVersion } from '../cli/package-info.js';
import { UsageError } from '../cli/serve-options.js';
import { ClusterRuntime } from './cluster-runtime.js';
import { resolveRouteConfig, ROUTE_OPTIONS, type RouteKey } from './route-options.js';

const REPEATABLE = new Set<RouteKey>(['upstream', 'upstreamDns']);

export async function run(argv: string[]): Promise<number> {
  const cmd = new Command('serval route')
    .description('place requests on serval replicas with the native placement and admission policies')
    .exitOverride();
  for (const o of ROUTE_OPTIONS) {
    const help = `${o.help} [env: ${o.env}]`;
    if (REPEATABLE.has(o.key)) cmd.option(o.flags, help, (v: string, prev: string[] = []) => [...prev, v]);
    else cmd.option(o.flags, help);
  }
  cmd.addHelpText('after', '\nExample: serval route --upstream http://10.0.0.5:8000 --upstream http://10.0.0.6:8000 --policy earliest_finish_time');
  const fail = (message: string, code: number): number => {
    process.stderr.write(`serval route: error: ${message}\n`);
    return code;
  };
  let config;
  try {
    cmd.parse(argv, { from: 'user' });
    config = resolveRouteConfig(cmd.opts(), process.env);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) return fail(err.message, 2);
    throw err;
  }
  const logger = createLogger({ format: config.logFormat });
  try {
    const runtime = await ClusterRuntime.open({
      config,
      onEvent: (e) => {
        if (e.kind === 'upstream-ejected' || e.kind === 'upstream-removed') logger.warn(e.kind, e);
        else logger.info(e.kind, e);
      },
    });
    const server = await startServer({
      runtime, host: config.host, port: config.httpPort,
      ...(config.grpcPort !== undefined ? { grpcPort: config.grpcPort } : {}),
      maxBodyMb: config.maxBodyMb, strictReadiness: config.strictReadiness,
      drainTimeoutMs: config.drainTimeoutSecs * 1000, shutdownGraceMs: config.shutdownGraceSecs * 1000,
      handleSignals: true, logger, serverVersion: servalVersion(),
    });
    for (const m of runtime.models()) logger.info(`model ${m.name} v${m.version}`, { state: m.state, replicas: runtime.upstreamStatus().filter((u) => u.state === 'ready').length });
    logger.info(`serval route ${servalVersion()}`, { policy: runtime.policy, admission: runtime.admission, upstreams: runtime.upstreamStatus().map((u) => u.url) });
    logger.info(`serval route listening on ${server.url}`);
    return 0;
  } catch (err) {
    if (err instanceof ServalError) return fail(err.message, err.code === 'INVALID_ARGUMENT' ? 2 : 1);
    return fail((err as Error)?.message ?? String(err), 1);
  }
}
