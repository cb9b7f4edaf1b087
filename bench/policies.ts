/**
 * The placement policies the scenario benchmark compares, in one place: add a policy here (and to
 * `PolicyName` in src/api-types.ts) and `--policy all` picks it up.
 */
import type { PolicyName } from '../src/api-types.js';

export const POLICIES: readonly PolicyName[] = ['round_robin', 'least_outstanding', 'power_of_two', 'shortest_expected_delay'];
