/**
 * The placement policies the scenario benchmark compares, in one place: add a policy here (and to
 * `PolicyName` in src/api-types.ts) and `--policy all` picks it up.
 */
import type { PolicyName } from '../src/api-types.js';
import { invalidArgument } from './errors.js';

export const POLICIES: readonly PolicyName[] = [
  'round_robin',
  'weighted_round_robin',
  'least_outstanding',
  'power_of_two',
  'shortest_expected_delay',
  'earliest_finish_time',
  'learned',
];

/** One policy: a name from POLICIES, or `learned:FILE` (the learned policy with weights from FILE). */
export function parsePolicy(text: string): PolicyName {
  if (!(POLICIES as readonly string[]).includes(text) && !/^learned:.+/.test(text)) {
    throw invalidArgument(`--policy must be one of ${POLICIES.join(', ')} (or learned:FILE), got '${text}'`);
  }
  return text as PolicyName;
}

/** `all`, or a comma-separated list of policies. */
export function parsePolicyList(text: string): PolicyName[] {
  return text === 'all' ? [...POLICIES] : text.split(',').map((p) => parsePolicy(p.trim()));
}
