/**
 * The scheduling policies the benchmarks compare, read from the native policy registry
 * (native/core/policy_registry.cc) through the addon: a policy added to the registry is benchmarked by
 * `--policy all` / `--admission all` with no change here.
 */
import type { AdmissionName, PolicyName } from '../src/api-types.js';
import { loadAddon } from '../src/binding.js';
import { invalidArgument } from './errors.js';

const info = loadAddon().buildInfo();

/** Placement policies (where a request runs). */
export const POLICIES: readonly PolicyName[] = info.policies as PolicyName[];
/** Admission policies (whether and when it runs). */
export const ADMISSIONS: readonly AdmissionName[] = info.admissionPolicies as AdmissionName[];

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

export function parseAdmission(text: string): AdmissionName {
  if (!(ADMISSIONS as readonly string[]).includes(text)) {
    throw invalidArgument(`--admission must be one of ${ADMISSIONS.join(', ')}, got '${text}'`);
  }
  return text as AdmissionName;
}

/** `all`, or a comma-separated list of admission policies. */
export function parseAdmissionList(text: string): AdmissionName[] {
  return text === 'all' ? [...ADMISSIONS] : text.split(',').map((p) => parseAdmission(p.trim()));
}
