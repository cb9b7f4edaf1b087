/**
 * `serval train-policy --profile P [--profile P2] --out policy.bin [--quick] [--seed N]`: trains the learned placement
 * policy in the simulator (behaviour cloning from EFT, then evolution strategies; src/placement/trainer.ts)
 * on episodes built from a latency profile (`serval profile`), with a progress bar. Writes the weights, a
 * training-curve chart and a JSON record beside them, and prints the simulated test comparison. The same
 * seed gives the same weights. Exit codes: 0 done, 2 bad usage, 1 failure.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { Command, CommanderError } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { writePolicyFile } from '../placement/policy-file.js';
import { readProfileFile, type ProfileFile } from '../placement/profile-file.js';
import { createRolloutRunner } from '../placement/rollout-pool.js';
import { testTable, writeTrainingChart, writeTrainingReport } from '../placement/training-report.js';
import { defaultTrainOptions, trainPolicy, type TrainProgress } from '../placement/trainer.js';
import { CODE_TRACE, loadTrace } from '../util/trace.js';
import { generateWeightsInc } from '../placement/weights-codegen.js';
import { trainAdmissionHead } from './train-admission.js';


function int(text: string, flag: string, min: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got '${text}'`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = new Command('serval train-policy')
    .description('train the learned placement policy in the simulator and write its weights (policy.bin)')
    .exitOverride()
    .requiredOption('--profile <file>', 'latency profile written by serval profile (repeatable: the models of all are used)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--out <file>', 'where to write the weights', 'policy.bin')
    .option('--seed <n>', 'seed for every episode and perturbation (same seed, same weights)', '1')
    .option('--quick', 'a CI-sized run (about 20 s)')
    .option('--generations <n>', 'evolution-strategies generations (default 300, quick 20)')
    .option('--threads <n>', 'rollout worker threads (0: on this thread)', String(availableParallelism()))
    .option('--trace <file|none>', 'arrival trace to cut burst windows from (CSV, TIMESTAMP column; default: the Azure LLM code trace, CC-BY 4.0, Patel et al., Splitwise, ISCA 2024)', existsSync(CODE_TRACE) ? CODE_TRACE : 'none')
    .option('--model <name>', 'train on this profiled model only (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--chart <file>', 'training-curve chart (.svg or .png; default: OUT with .svg)')
    .option('--report <file>', 'JSON record of the run (default: OUT with .json)')
    .option('--emit-inc <file>', 'also generate the compiled-weights include (native/core/learned_policy_weights.inc)')
    .option('--head <placement|admission>', 'which part of the learned joint policy to train: the placement network (policy.bin) or the admission head (weights as JSON)', 'placement')
    .option('--quiet', 'no progress bar');
  let o: Record<string, string | string[] | boolean | undefined>;
  try {
    cmd.parse(argv, { from: 'user' });
    o = cmd.opts();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const started = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  try {
    if (o['head'] !== 'placement' && o['head'] !== 'admission') throw new InvalidArgumentError(`--head must be placement or admission, got '${String(o['head'])}'`);
    const options = defaultTrainOptions(o['quick'] === true, int(String(o['seed']), '--seed', 0));
    if (o['generations'] !== undefined) options.generations = int(String(o['generations']), '--generations', 0);
    if (o['model']) options.models = o['model'] as string[];
    const threads = int(String(o['threads']), '--threads', 0);
    const profiles = await Promise.all((o['profile'] as string[]).map((f) => readProfileFile(f)));
    const profile = { ...profiles[0]!, models: Object.assign({}, ...profiles.map((p) => p.models)) as ProfileFile['models'] };
    for (const m of options.models ?? []) {
      if (!profile.models[m]) throw new InvalidArgumentError(`--model ${m}: the profile has no such model (it has ${Object.keys(profile.models).join(', ')})`);
    }
    if (o['trace'] !== 'none') options.trace = (await loadTrace(String(o['trace']), { column: 'TIMESTAMP' })).times;
    if (o['head'] === 'admission') {
      return await trainAdmissionHead(profile, {
        quick: o['quick'] === true, seed: options.seed, trace: options.trace, models: options.models,
        generations: o['generations'] === undefined ? undefined : options.generations,
        out: o['out'] === 'policy.bin' ? 'admission.json' : String(o['out']),
        emitInc: o['emitInc'] === undefined ? undefined : String(o['emitInc']),
        quiet: o['quiet'] === true,
      });
    }
    const out = String(o['out']);
    const base = out.replace(/\.bin$/, '');
    const bcSteps = 2 + 2 * options.daggerRounds;
    const total = bcSteps + options.generations + 1;
    const tty = process.stderr.isTTY && o['quiet'] !== true;
    if (tty) {
      bar = new cliProgress.SingleBar({ format: 'train-policy [{bar}] {percentage}% | {stage} | {note}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
      bar.start(total, 0, { stage: 'bc', note: '' });
    }
    const offsets = { bc: 0, es: bcSteps, test: bcSteps + options.generations };
    let lastLine = 0;
    const progress: TrainProgress = (stage, done, _of, note) => {
      bar?.update(offsets[stage] + done, { stage, note });
      if (!bar && o['quiet'] !== true && (stage !== 'es' || performance.now() - lastLine > 5000)) {
        lastLine = performance.now();
        process.stderr.write(`train-policy: ${stage} ${done}/${_of} ${note}\n`);
      }
    };
    const runner = createRolloutRunner(threads);
    let result;
    try {
      result = await trainPolicy(profile, options, runner, progress);
    } finally {
      await runner.close();
    }
    bar?.stop();
    bar = undefined;
    const seconds = (performance.now() - started) / 1000;
    await writePolicyFile(out, result.policy);
    const chart = String(o['chart'] ?? `${base}.svg`);
    const report = String(o['report'] ?? `${base}.json`);
    await writeTrainingChart(chart, result);
    await writeTrainingReport(report, options, result, seconds);
    if (o['emitInc']) await generateWeightsInc(out, String(o['emitInc']));
    process.stdout.write(`Simulated test episodes (held-out split, ${options.testEpisodes} episodes):\n${testTable(result)}\n`);
    process.stdout.write(`best generation ${result.best.generation}: validation ${result.best.validation.toFixed(4)} (EFT ${result.best.validationEft.toFixed(4)})\n`);
    process.stdout.write(`wrote ${out}, ${chart}, ${report}${o['emitInc'] ? `, ${String(o['emitInc'])}` : ''} in ${seconds.toFixed(1)} s\n`);
    return 0;
  } catch (err) {
    bar?.stop();
    // ServalError codes; a malformed --trace file is INVALID_ARGUMENT naming the file and line.
    const code = (err as { code?: string }).code;
    process.stderr.write(`serval train-policy: error: ${(err as Error).message}${code ? ` [${code}]` : ''}\n`);
    return code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}
