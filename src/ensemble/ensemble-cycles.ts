/**
 * Ensembles may be steps of other ensembles, but none may contain itself: an ensemble waits for its members to
 * load, so a cycle of ensembles would wait forever. Before waiting, the member graph is walked through the
 * repository's config files (not the loaded models), and a cycle is a config error at the step that enters it.
 */
import type { ModelConfig } from '../repository/model-config.js';
import { ENSEMBLE_PLATFORM } from '../repository/parse-config.js';
import type { StepLocator } from './ensemble-graph.js';

/** Reads a model's config.pbtxt (parsed, not auto-completed); rejects when the model is missing or its config is invalid. */
export type ConfigReader = (model: string) => Promise<ModelConfig>;

/** Throws (at the step of `root` that leads into it) when a chain of ensemble steps starting at `root` returns to an ensemble on the chain. */
export async function checkEnsembleCycles(root: ModelConfig, readConfig: ConfigReader, where: StepLocator): Promise<void> {
  const steps = root.ensembleScheduling!.step;
  for (const [i, step] of steps.entries()) {
    const cycle = await findCycle(step.modelName, [root.name], readConfig);
    if (cycle) throw where.error(i, 'model_name', `names "${step.modelName}", which leads to a cycle of ensembles (${cycle.join(' → ')}): an ensemble cannot contain itself`);
  }
}

/** Depth-first over ensemble members; returns the chain that closes a cycle, if any. */
async function findCycle(model: string, chain: string[], readConfig: ConfigReader): Promise<string[] | undefined> {
  if (chain.includes(model)) return [...chain.slice(chain.indexOf(model)), model];
  const config = await readConfig(model).catch(() => undefined);  // a missing member is reported once the members load
  if (config?.platform !== ENSEMBLE_PLATFORM) return undefined;
  for (const step of config.ensembleScheduling?.step ?? []) {
    const cycle = await findCycle(step.modelName, [...chain, model], readConfig);
    if (cycle) return cycle;
  }
  return undefined;
}
