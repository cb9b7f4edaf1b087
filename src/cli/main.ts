#!/usr/bin/env node
/**
 * The `serval` command. `serve` runs the Open Inference Protocol v2 server; `bench` is loaded lazily
 * from the benchmark harness (bench/cli.ts). Usage errors exit 2 with a one-line message, startup
 * failures exit 1; neither prints a stack.
 */
import { Command, CommanderError } from 'commander';
import type { ModelState, RuntimeEvent } from '../api-types.js';
import { ServalError } from '../errors.js';
import { BearerAuth } from '../server/auth.js';
import { createLogger, type Logger } from '../server/logger.js';
import { startServer, type RunningServer } from '../server/server.js';
import { servalVersion } from './package-info.js';
import { auditOptions } from './audit-serve-options.js';
import { resolveServeConfig, SERVE_OPTIONS, UsageError, type ServeConfig, type ServeKey } from './serve-options.js';
import { logTrafficEvent } from '../rollout/traffic-events.js';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function buildProgram(version: string): Command {
  const program = new Command('serval')
    .description('Triton-class model serving inside Node.js')
    .version(version, '-v, --version', 'print the serval version')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const serve = program
    .command('serve')
    .description('serve a model repository over the Open Inference Protocol v2 (KServe v2 / Triton) REST and gRPC APIs')
    .exitOverride()
    .showHelpAfterError('(run serval serve --help for usage)');
  for (const o of SERVE_OPTIONS) {
    const help = `${o.help} [env: ${o.env}]`;
    if (o.key === 'loadModel') serve.option(o.flags, help, (v: string, prev: string[] = []) => [...prev, v]);
    else serve.option(o.flags, help);
  }
  serve.addHelpText(
    'after',
    [
      '',
      'Precedence: flags > environment variables > --config file > defaults.',
      'Environment only: SERVAL_HTTP_TRANSPORT=uws|node|auto (auto: uWebSockets.js when its native',
      'binary loads, node:http otherwise).',
      '',
      'Example: serval serve --model-repository models --http-port 8000 --grpc-port 8001',
    ].join('\n'),
  );
  serve.action(async (opts: Partial<Record<ServeKey | 'config', unknown>>) => {
    await serveCommand(resolveServeConfig(opts, process.env), version);
  });

  program
    .command('bench')
    .description('run the benchmark harness (serval bench --help for its options)')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(async (_args: string[], _opts: unknown, cmd: Command) => {
      // Relative to dist/src/cli/: the compiled bench/cli.js. Held in a variable so tsc does not resolve it.
      const specifier = '../../bench/cli.js';
      let mod: { runBenchCli(argv: string[]): Promise<number> };
      try {
        mod = (await import(specifier)) as typeof mod;
      } catch (err) {
        throw new StartupError(`serval bench is not available in this build: ${(err as Error).message}`);
      }
      const code = await mod.runBenchCli(cmd.args);
      if (code) process.exitCode = code;
    });
  // Learned placement (docs/placement.md): loaded on demand; each module's run(argv) returns the exit code.
  const placement: [string, string, () => Promise<{ run(argv: string[]): Promise<number> }>][] = [
    ['profile', "measure each model instance's batch-latency curve and write a profile file", () => import('./profile-command.js')],
    ['train-policy', 'train the learned placement policy in the simulator and write policy.bin', () => import('./train-policy-command.js')],
    ['audit', 'verify or query a decision audit trail (serval audit verify|query DIR)', () => import('./audit-command.js')],
    ['route', 'serve the v2 API in front of serval replicas, placing requests with the native policies', () => import('../cluster/route-command.js')],
  ];
  for (const [name, description, load] of placement) {
    program.command(name).description(description).allowUnknownOption().helpOption(false).argument('[args...]')
      .action(async (_args: string[], _opts: unknown, cmd: Command) => {
        process.exitCode = await (await load()).run(cmd.args);
      });
  }
  return program;
}

class StartupError extends Error {}

async function serveCommand(config: ServeConfig, version: string): Promise<void> {
  const logger = createLogger({ format: config.logFormat });
  const auth = config.authTokenFile ? BearerAuth.fromFile(config.authTokenFile) : undefined;
  const events = runtimeEventLogger(logger);
  const server = await startServer({
    runtimeOptions: {
      modelRepository: config.modelRepository,
      ...(config.policy ? { policy: config.policy as never } : {}),
      ...(config.admission ? { admission: config.admission as never } : {}),
      ...(config.cacheConfig ? { cache: config.cacheConfig } : {}),
      ...auditOptions(config, logger),
      onEvent: events.log,
    },
    host: config.host,
    port: config.httpPort,
    ...(config.grpcPort !== undefined ? { grpcPort: config.grpcPort } : {}),
    modelControlMode: config.modelControlMode,
    loadModels: config.loadModel,
    repositoryPollSecs: config.repositoryPollSecs,
    maxBodyMb: config.maxBodyMb,
    maxJsonBodyMb: config.maxJsonBodyMb,
    maxBufferedBodyMb: config.maxBufferedBodyMb,
    bodyTimeoutMs: config.bodyTimeoutSecs * 1000,
    strictReadiness: config.strictReadiness,
    httpThreads: config.httpThreads,
    ...(auth ? { auth } : {}),
    drainTimeoutMs: config.drainTimeoutSecs * 1000,
    shutdownGraceMs: config.shutdownGraceSecs * 1000,
    handleSignals: true,
    logger,
    serverVersion: version,
  });
  logStartup(server, config, version, logger);
  events.started();
}

/**
 * Logs runtime events. A version becoming UNAVAILABLE other than by an unload is a load failure
 * (warn). Other transitions are info once the server runs (poll and explicit mode reloads); during
 * startup they are debug, since the startup summary lists every model.
 */
function runtimeEventLogger(logger: Logger): { log: (e: RuntimeEvent) => void; started: () => void } {
  const last = new Map<string, ModelState>();
  let running = false;
  const log = (e: RuntimeEvent): void => {
    if (e.kind === 'rollout' || e.kind === 'drift') return logTrafficEvent(logger, e);
    if (e.kind === 'warmup-failed') {
      logger.warn('default warmup failed; the model serves anyway', { model: e.model, version: e.version, instance: e.instance, reason: e.reason });
      return;
    }
    if (e.kind === 'execution-provider-fallback') {
      logger.warn('GPU instance falls back to another execution provider', { model: e.model, version: e.version, instance: e.instance, provider: e.provider, reason: e.reason });
      return;
    }
    if (e.kind !== 'model-state') {
      logger.warn('instance restarted', { model: e.model, version: e.version, instance: e.instance, reason: e.reason });
      return;
    }
    const key = `${e.model}/${e.version}`;
    const previous = last.get(key);
    last.set(key, e.state);
    const fields = { model: e.model, version: e.version, state: e.state, ...(e.reason ? { reason: e.reason } : {}) };
    if (e.state === 'UNAVAILABLE' && previous !== 'UNLOADING') logger.warn('model failed to load', fields);
    else if (running && e.state !== 'LOADING') logger.info('model state', fields);
    else logger.debug('model state', fields);
  };
  return { log, started: () => void (running = true) };
}

/** What was loaded, with which policy and transport, and where to send requests. */
function logStartup(server: RunningServer, config: ServeConfig, version: string, logger: Logger): void {
  const { runtime } = server;
  logger.info(`serval ${version}`, {
    repository: config.modelRepository,
    policy: runtime.policy,
    admission: runtime.admission,
    transport: server.transport,
    httpThreads: server.httpThreads,
    modelControlMode: config.modelControlMode,
    auth: config.authTokenFile ? 'bearer' : 'none',
  });
  const stats = runtime.stats().models;
  const models = runtime.models();
  if (models.length === 0) logger.info('no models loaded');
  for (const m of models) {
    const instances = stats.find((s) => s.name === m.name && s.version === m.version)?.instances.length ?? 0;
    const fields = { state: m.state, instances, ...(m.reason ? { reason: m.reason } : {}) };
    if (m.state === 'UNAVAILABLE') logger.warn(`model ${m.name} v${m.version}`, fields);
    else logger.info(`model ${m.name} v${m.version}`, fields);
  }
  if (server.grpcPort !== undefined) logger.info(`serval gRPC listening on ${config.host}:${server.grpcPort}`);
  logger.info(`serval listening on ${server.url}`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`serval: error: ${message}\n`);
  return code;
}

export async function main(argv: string[]): Promise<number | undefined> {
  const program = buildProgram(servalVersion());
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return undefined; // serve keeps running; bench and others finish on their own
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (or the help / version text).
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UsageError) return fail(err.message, EXIT_USAGE);
    if (err instanceof ServalError) {
      return fail(err.message, err.code === 'INVALID_ARGUMENT' ? EXIT_USAGE : EXIT_FAILURE);
    }
    if (process.env['SERVAL_DEBUG']) process.stderr.write(`${(err as Error).stack}\n`);
    return fail((err as Error)?.message ?? String(err), EXIT_FAILURE);
  }
}

main(process.argv).then((code) => {
  if (code !== undefined) process.exitCode = code;
});
