/**
 * policy.bin, the learned placement policy's weights: read, write and inspect through the native codec
 * (native/core/policy_network.h defines the format once). Bad files are InvalidArgumentError with the reason.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { loadAddon, type NativePolicyParts } from '../binding.js';
import { InvalidArgumentError } from '../errors.js';

export type PolicyParts = NativePolicyParts;

/** Encodes weights as policy.bin bytes. */
export function encodePolicy(parts: PolicyParts): Buffer {
  return loadAddon().sim.encodePolicy(parts);
}

/** Decodes policy.bin bytes; `source` names them in the error. */
export function decodePolicy(bytes: Buffer, source = 'policy weights'): PolicyParts {
  try {
    return loadAddon().sim.decodePolicy(bytes);
  } catch (err) {
    throw new InvalidArgumentError(`${source}: ${(err as Error).message}`);
  }
}

export async function readPolicyFile(path: string): Promise<PolicyParts> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InvalidArgumentError(`cannot read policy weights file '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return decodePolicy(bytes, `policy weights file '${path}'`);
}

export async function writePolicyFile(path: string, parts: PolicyParts): Promise<void> {
  await writeFile(path, encodePolicy(parts));
}
