/**
 * `npm run bench -- http` (issue 3): load from a separate process against (a) the naive node:http +
 * onnxruntime-node server and (b) `serval serve`, same model (fraud_mlp), JSON and binary bodies, concurrency
 * 1, 64 and 256, closed loop. Every trial starts a fresh server process and a fresh load-generator process.
 * `serval serve` runs from dist/ (build first: npm run build).
 */
import type { CliIo } from '../cli.js';
import { invalidArgument } from '../errors.js';
import { POLICIES } from '../policies.js';
import { parseConcurrencyList } from '../ranges.js';
import { comparisonBarsSpec, latencyThroughputSpec, sideBySide } from '../report/chart.js';
import { renderRatios } from '../report/compare.js';
import type { WireProtocol } from '../targets/http.js';
import { type CommandFactory, finish, runTrials, timing, type Trial } from './common.js';
import { naiveServerArgs, servalServeArgs, spawnServer } from './servers.js';

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = command('npm run bench -- http')
    .description('naive node:http server vs serval serve over HTTP, JSON and binary bodies, each trial in fresh processes')
    .option('--model-repository <dir>', 'model repository', 'models')
    .option('--model <name>', 'model', 'fraud_mlp')
    .option('--concurrency <list>', 'comma-separated concurrencies', '1,64,256')
    .option('--protocols <list>', 'json,binary or one of them', 'json,binary')
    .option('--policy <name>', 'serval placement policy', 'least_outstanding')
    .option('--duration <secs>', 'longest a step may run (default 20, --quick 6)')
    .option('--seed <n>', 'input seed', '1')
    .option('--quick', 'short windows and steps');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  const quick = o['quick'] === true;
  const repo = String(o['modelRepository']);
  const model = String(o['model']);
  const policy = String(o['policy']);
  if (!(POLICIES as readonly string[]).includes(policy)) throw invalidArgument(`--policy must be one of ${POLICIES.join(', ')}, got '${policy}'`);
  const protocols = String(o['protocols']).split(',') as WireProtocol[];
  if (protocols.some((p) => p !== 'json' && p !== 'binary')) throw invalidArgument(`--protocols must list json and/or binary, got '${String(o['protocols'])}'`);
  const concurrencies = parseConcurrencyList(String(o['concurrency']));
  const t = timing(quick, o['duration'] as string | undefined);
  const seed = Number(o['seed']);
  const step = { windowMs: t.windowMs, warmupMs: t.warmupMs, maxDurationMs: t.maxDurationMs, stability: { windows: 3, percentage: 10 }, drainTimeoutMs: t.drainTimeoutMs };
  const servers = [
    { name: 'naive server', args: naiveServerArgs(repo, model) },
    { name: 'serval serve', args: servalServeArgs(repo, policy) },
  ];
  const trials: Trial[] = protocols.flatMap((protocol) =>
    concurrencies.flatMap((c) =>
      servers.map((server): Trial => {
        const series = `${server.name} ${protocol}`;
        return {
          label: `${series} c=${c}`,
          timeoutMs: t.maxDurationMs + t.drainTimeoutMs + 120_000,
          spec: async () => {
            const running = await spawnServer(server.name, server.args);
            return {
              stop: running.stop,
              spec: {
                kind: 'sweep',
                target: { kind: 'http', url: running.url, protocol, connections: c, requestTimeoutMs: 30_000 },
                models: { kind: 'single', model },
                load: { mode: 'concurrency', values: [c] },
                step,
                seed,
                inputData: { kind: 'random' },
                series,
              },
            };
          },
        };
      }),
    ),
  );
  const { steps, failures } = await runTrials('http', trials, io, o['quiet'] === true);
  const extra: Array<[string, string, string]> = protocols.map((p) => {
    const sub = steps.filter((s) => s.series.endsWith(` ${p}`));
    return [`serval serve vs naive server, ${p} bodies`, renderRatios(sub, `naive server ${p}`), renderRatios(sub, `naive server ${p}`, true)];
  });
  return finish({
    name: 'http',
    title: `http: ${model}, naive node:http server vs serval serve (policy ${policy})`,
    quick,
    argv,
    settings: { modelRepository: repo, model, concurrencies, protocols, policy, timing: t, seed },
    steps,
    notes: [
      'closed loop from a separate load-generator process (undici, one connection per concurrent request); client, server and model share this machine',
      'naive server: node:http, one onnxruntime-node session (1 intra-op thread), one session.run per request, serval\'s v2 codec',
      ...failures.map((f) => `FAILED ${f}`),
    ],
    extra,
    chart: sideBySide([latencyThroughputSpec(steps), comparisonBarsSpec(steps, ['throughput', 'p99'])]),
    opts: o as never,
    io,
  });
}
