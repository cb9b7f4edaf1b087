/**
 * `npm run bench -- http` (issue 3): load from a separate process against (a) the naive node:http +
 * onnxruntime-node server and (b) `serval serve`, same model (fraud_mlp), JSON and binary bodies, concurrency
 * 1, 64 and 256, closed loop; plus `serval serve` over its v2 gRPC API (issue 9; the naive server has none).
 * Every trial starts a fresh server process and a fresh load-generator process.
 * `serval serve` runs from dist/ (build first: npm run build).
 */
import type { CliIo } from '../cli.js';
import { comparisonBarsSpec, latencyThroughputSpec, sideBySide } from '../report/chart.js';
import { renderRatios } from '../report/compare.js';
import { type BenchProtocol, parseBenchProtocol } from '../targets/grpc.js';
import type { TrialTarget } from '../trials/trial.js';
import {
  addClosedLoopOptions,
  addCommonOptions,
  closedLoopTimeoutMs,
  closedLoopTrial,
  type CommandFactory,
  finish,
  readClosedLoopOptions,
  readCommonOptions,
  runTrials,
  type Trial,
} from './common.js';
import { BenchError } from '../errors.js';
import { naiveServerArgs, servalServeArgs, spawnServer, type SpawnedServer } from './servers.js';

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = addClosedLoopOptions(addCommonOptions(command('npm run bench -- http')), '1,64,256')
    .description('naive node:http server vs serval serve over HTTP (JSON and binary bodies) and gRPC, each trial in fresh processes')
    .option('--protocols <list>', 'json,binary,grpc or some of them (the naive server speaks no gRPC)', 'json,binary,grpc');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const c0 = readCommonOptions(o);
  const { modelRepository: repo, model, seed, timing: t } = c0;
  const { concurrencies, policy } = readClosedLoopOptions(o);
  const protocols = String(o['protocols']).split(',').map((p) => parseBenchProtocol(p, '--protocols'));
  const servers = [
    { name: 'naive server', args: naiveServerArgs(repo, model) },
    { name: 'serval serve', args: servalServeArgs(repo, policy) },
  ];
  const trials: Trial[] = protocols.flatMap((protocol) =>
    concurrencies.flatMap((c) =>
      servers.filter((server) => protocol !== 'grpc' || server.name === 'serval serve').map((server): Trial => {
        const series = `${server.name} ${protocol}`;
        return {
          label: `${series} c=${c}`,
          timeoutMs: closedLoopTimeoutMs(c0),
          spec: async () => {
            const running = await spawnServer(server.name, server.args);
            return { stop: running.stop, spec: closedLoopTrial(c0, trialTarget(protocol, running, c), series, c) };
          },
        };
      }),
    ),
  );
  const { steps, failures } = await runTrials('http', trials, io, o['quiet'] === true, c0.repeat);
  const extra: Array<[string, string, string]> = protocols.filter((p) => p !== 'grpc').map((p) => {
    const sub = steps.filter((s) => s.series.endsWith(` ${p}`));
    return [`serval serve vs naive server, ${p} bodies`, renderRatios(sub, `naive server ${p}`), renderRatios(sub, `naive server ${p}`, true)];
  });
  if (protocols.includes('grpc') && protocols.includes('binary')) {
    const sub = steps.filter((s) => s.series === 'serval serve grpc' || s.series === 'serval serve binary');
    extra.push(['serval serve: gRPC vs HTTP binary bodies', renderRatios(sub, 'serval serve binary'), renderRatios(sub, 'serval serve binary', true)]);
  }
  return finish({
    name: 'http',
    title: `http: ${model}, naive node:http server vs serval serve (policy ${policy})`,
    quick: c0.quick,
    argv,
    settings: { modelRepository: repo, model, concurrencies, protocols, policy, timing: t, seed },
    steps,
    notes: [
      'closed loop from a separate load-generator process (undici, one connection per concurrent request); client, server and model share this machine',
      'naive server: node:http, one onnxruntime-node session (1 intra-op thread), one session.run per request, serval\'s v2 codec',
      'grpc: ModelInfer with raw_input_contents over one HTTP/2 connection (node:http2 client, requests serialized and framed before the load starts)',
      ...failures.map((f) => `FAILED ${f}`),
    ],
    extra,
    chart: sideBySide([latencyThroughputSpec(steps), comparisonBarsSpec(steps, ['throughput', 'p99'])]),
    opts: c0.output,
    io,
  });
}

/** Where a trial sends its load: the server's HTTP URL, or its gRPC address (one HTTP/2 connection). */
function trialTarget(protocol: BenchProtocol, running: SpawnedServer, concurrency: number): TrialTarget {
  if (protocol !== 'grpc') return { kind: 'http', url: running.url, protocol, connections: concurrency, requestTimeoutMs: 30_000 };
  if (!running.grpcAddress) throw new BenchError('TRIAL_FAILED', 'serval serve printed no gRPC address');
  return { kind: 'grpc', url: running.grpcAddress, connections: 1, requestTimeoutMs: 30_000 };
}
