/**
 * `serval train-policy --head admission`: trains the learned joint policy's admission head in the simulator
 * (src/placement/admission-trainer.ts), writes its weights as JSON (and, with --emit-inc, the compiled
 * include native/core/learned_admission_weights.inc), and prints the held-out comparison against every
 * heuristic combination. The same seed gives the same weights.
 */
import { writeFile } from 'node:fs/promises';
import { admissionWeightsInc, defaultAdmissionOptions, trainAdmission } from '../placement/admission-trainer.js';
import type { ProfileFile } from '../placement/profile-file.js';

export interface AdmissionHeadOptions {
  quick: boolean;
  seed: number;
  generations?: number;
  trace?: number[];
  models?: string[];
  out: string;
  emitInc?: string;
  quiet: boolean;
}

export async function trainAdmissionHead(profile: ProfileFile, o: AdmissionHeadOptions): Promise<number> {
  const started = performance.now();
  const options = defaultAdmissionOptions(o.quick, o.seed);
  if (o.generations !== undefined) options.generations = o.generations;
  if (o.trace) options.trace = o.trace;
  if (o.models) options.models = o.models;
  const result = trainAdmission(profile, options, (stage, done, total, note) => {
    if (!o.quiet) process.stderr.write(`train-policy (admission): ${stage} ${done}/${total} ${note}\n`);
  });
  const seconds = (performance.now() - started) / 1000;
  const record = {
    schema: 'serval-admission-head/1',
    createdAt: new Date().toISOString(),
    seconds,
    options: { ...options, trace: options.trace ? `${options.trace.length} arrivals` : undefined },
    weights: Array.from(result.weights),
    best: result.best,
    curve: result.curve,
    test: result.test,
  };
  await writeFile(o.out, `${JSON.stringify(record, null, 2)}\n`);
  if (o.emitInc) {
    await writeFile(o.emitInc, admissionWeightsInc(result.weights, `seed ${o.seed}, ${options.generations} generations; best at generation ${result.best.generation}`));
  }
  const rows = result.test.map((t) =>
    `| ${t.split} | ${t.episodes} | ${(100 * t.learned).toFixed(2)} | ${t.bestCombinationName} ${(100 * t.bestCombination).toFixed(2)} | ${(100 * t.oracle).toFixed(2)} | x${t.ratio.toFixed(4)} |`);
  process.stdout.write([
    'Held-out comparison (mean SLO attainment %, i.e. goodput at each episode\'s offered rate):',
    '| split | episodes | learned joint | best heuristic combination | per-episode oracle over heuristics | learned / best |',
    '|---|---|---|---|---|---|',
    ...rows,
    `best generation ${result.best.generation}: validation ${result.best.validation.toFixed(4)} (deadline admission ${result.best.validationDeadline.toFixed(4)})`,
    `wrote ${o.out}${o.emitInc ? `, ${o.emitInc}` : ''} in ${seconds.toFixed(1)} s`,
    '',
  ].join('\n'));
  return 0;
}
