/**
 * The rollout endpoints of `serval serve` (serval's extension of the v2 REST surface):
 *   POST   /v2/models/{m}/rollout  a spec starts (or replaces) a rollout; {"action": "pause|resume|promote|rollback"} steers it
 *   GET    /v2/models/{m}/rollout  the state: phase, weights, per-arm statistics, guards, reason, timeline
 *   DELETE /v2/models/{m}/rollout  ends it: requests naming no version go to the newest ready version again
 * Every route sits behind the server's bearer token like the other non-public routes (src/server/auth.ts).
 */
import { UnknownModelError } from '../errors.js';
import { jsonResponse } from '../server/http-transport.js';
import type { Logger } from '../server/logger.js';
import type { Router } from '../server/router.js';
import type { ServingRuntime } from '../server/serving-runtime.js';
import { parseJsonObject } from '../server/v2-codec.js';
import type { RolloutSpecInput } from './rollout-spec.js';

type RolloutRuntime = Required<Pick<ServingRuntime, 'rollout' | 'rolloutState' | 'traffic'>> & Pick<ServingRuntime, 'models'>;

/** Whether `runtime` runs rollouts (a `serval route` front end does not: its replicas do). */
export function runsRollouts(runtime: ServingRuntime): runtime is ServingRuntime & RolloutRuntime {
  return runtime.rollout !== undefined && runtime.rolloutState !== undefined && runtime.traffic !== undefined;
}

export function addRolloutRoutes(router: Router, runtime: RolloutRuntime, logger: Logger, validateModelName: (name: string) => string): void {
  const known = (name: string): string => {
    if (!runtime.models().some((m) => m.name === name)) throw new UnknownModelError(`unknown model '${name}'`);
    return name;
  };
  router
    .add('POST', '/v2/models/:model/rollout', (req, p) => {
      const name = known(validateModelName(p['model']!));
      const body = parseJsonObject(req.body);
      if (body['action'] !== undefined && Object.keys(body).length === 1) {
        const state = runtime.traffic.control(name, body['action']);
        logger.info('rollout steered', { model: name, action: String(body['action']), phase: state.phase });
        return jsonResponse(200, state);
      }
      const state = runtime.rollout(name, body as unknown as RolloutSpecInput); // checked field by field there
      logger.info('rollout started', { model: name, strategy: state.strategy, stable: state.stable, candidate: state.candidate });
      return jsonResponse(200, state);
    })
    .add('GET', '/v2/models/:model/rollout', (_req, p) => {
      const name = known(validateModelName(p['model']!));
      const state = runtime.rolloutState(name);
      if (!state) throw new UnknownModelError(`model '${name}' has no rollout`);
      return jsonResponse(200, state);
    })
    .add('DELETE', '/v2/models/:model/rollout', (_req, p) => {
      const name = known(validateModelName(p['model']!));
      if (!runtime.traffic.clear(name)) throw new UnknownModelError(`model '${name}' has no rollout`);
      logger.info('rollout ended', { model: name });
      return { status: 200 };
    });
}
