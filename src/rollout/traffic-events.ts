/**
 * How `serval serve` logs rollout and drift events: a rollback and a drifted feature are warnings, other
 * rollout transitions are info.
 */
import type { RuntimeEvent } from '../api-types.js';
import type { Logger } from '../server/logger.js';

export function logTrafficEvent(logger: Logger, e: Extract<RuntimeEvent, { kind: 'rollout' | 'drift' }>): void {
  if (e.kind === 'rollout') {
    const { kind: _k, ...fields } = e;
    if (e.phase === 'rolled_back') logger.warn('rollout rolled back', fields);
    else logger.info(`rollout ${e.phase}`, fields);
    return;
  }
  const { kind: _k, ...fields } = e;
  logger.warn('feature drifted from its reference', fields);
}
