/**
 * `npm run bench -- http` (issue 3): load from a separate process against (a) the naive node:http +
 * onnxruntime-node server and (b) `serval serve`, same model (fraud_mlp), JSON and binary bodies, concurrency
 * 1, 64 and 256, closed loop. Every trial starts a fresh server process and a fresh load-generator process.
 * `serval serve` runs from dist/ (build first: npm run build).
 */
import type { CliIo } from '../cli.js';
import { comparisonBarsSpec, latencyThroughputSpec, sideBySide } from '../report/chart.js';
import { renderRatios } from '../report/compare.js';
import { parseProtocol } from '../targets/http.js';
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
import { naiveServerArgs, servalServeArgs, spawnServer } from './servers.js';

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = addClosedLoopOptions(addCommonOptions(command('npm run bench -- http')), '1,64,256')
    .description('naive node:http server vs serval serve over HTTP, JSON and binary bodies, each trial in fresh processes')
    .option('--protocols <list>', 'json,binary or one of them', 'json,binary');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const c0 = readCommonOptions(o);
  const { modelRepository: repo, model, seed, timing: t } = c0;
  const { concurrencies, policy } = readClosedLoopOptions(o);
  const protocols = String(o['protocols']).split(',').map(parseProtocol);
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
          timeoutMs: closedLoopTimeoutMs(c0),
          spec: async () => {
            const running = await spawnServer(server.name, server.args);
            const target = { kind: 'http' as const, url: running.url, protocol, connections: c, requestTimeoutMs: 30_000 };
            return { stop: running.stop, spec: closedLoopTrial(c0, target, series, c) };
          },
        };
      }),
    ),
  );
  const { steps, failures } = await runTrials('http', trials, io, o['quiet'] === true, c0.repeat);
  const extra: Array<[string, string, string]> = protocols.map((p) => {
    const sub = steps.filter((s) => s.series.endsWith(` ${p}`));
    return [`serval serve vs naive server, ${p} bodies`, renderRatios(sub, `naive server ${p}`), renderRatios(sub, `naive server ${p}`, true)];
  });
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
      ...failures.map((f) => `FAILED ${f}`),
    ],
    extra,
    chart: sideBySide([latencyThroughputSpec(steps), comparisonBarsSpec(steps, ['throughput', 'p99'])]),
    opts: c0.output,
    io,
  });
}
