/**
 * `serval profile --model-repository DIR [--model NAME ...] [--out profile.json]`: measures each model
 * instance's batch-latency curve l(b) and its variance on this machine (src/placement/profiler.ts) and
 * writes a profile file for `serval train-policy`, the simulator and Runtime.seedLatencyProfile.
 * Exit codes: 0 done, 2 bad usage, 1 failure.
 */
import { cpus } from 'node:os';
import { Command, CommanderError } from 'commander';
import { ServalError } from '../errors.js';
import { Runtime } from '../runtime.js';
import { PROFILE_SCHEMA, type ProfileFile, writeProfileFile } from '../placement/profile-file.js';
import { profileModel } from '../placement/profiler.js';

export async function run(argv: string[]): Promise<number> {
  const cmd = new Command('serval profile')
    .description("measure each model instance's batch-latency curve l(b) on this machine and write a profile file")
    .exitOverride()
    .requiredOption('--model-repository <dir>', 'the model repository')
    .option('--model <name>', 'a model to profile (repeatable; default: every model)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--samples <n>', 'executions per instance and batch size', '30')
    .option('--out <file>', 'where to write the profile', 'profile.json');
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const o = cmd.opts<{ modelRepository: string; model?: string[]; samples: string; out: string }>();
  const samples = Number(o.samples);
  if (!Number.isInteger(samples) || samples < 2) {
    process.stderr.write(`serval profile: error: --samples must be an integer >= 2, got '${o.samples}'\n`);
    return 2;
  }
  let rt: Runtime | undefined;
  try {
    rt = await Runtime.open({ modelRepository: o.modelRepository, policy: 'round_robin', loadModels: o.model ?? 'all' });
    const names = [...new Set(rt.models().filter((m) => m.state === 'READY').map((m) => m.name))];
    if (names.length === 0) throw new ServalError('MODEL_UNAVAILABLE', 'no model could be loaded');
    const profile: ProfileFile = {
      schema: PROFILE_SCHEMA,
      createdAt: new Date().toISOString(),
      host: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
      repository: o.modelRepository,
      models: {},
    };
    for (const name of names) {
      process.stderr.write(`profiling ${name} `);
      profile.models[name] = await profileModel(rt, name, { samples, onProgress: () => process.stderr.write('.') });
      const p = profile.models[name]!;
      const i0 = p.instances[0]!;
      process.stderr.write(` l(1) = ${i0.meanUs[0]} us, l(${i0.batchSizes.at(-1)}) = ${i0.meanUs.at(-1)} us, ${p.instances.length} instance(s)\n`);
    }
    await writeProfileFile(o.out, profile);
    process.stderr.write(`wrote ${o.out}\n`);
    return 0;
  } catch (err) {
    const code = (err as ServalError).code;
    process.stderr.write(`serval profile: error: ${(err as Error).message}${code ? ` [${code}]` : ''}\n`);
    return code === 'INVALID_ARGUMENT' ? 2 : 1;
  } finally {
    await rt?.close();
  }
}
