/** `serval serve --audit-log DIR [--audit-overflow P] [--audit-key-file F]` as `RuntimeOptions.audit`. */
import { readFileSync } from 'node:fs';
import type { AuditOverflowPolicy } from '../audit/audit-options.js';
import type { RuntimeOptions } from '../api-types.js';
import type { Logger } from '../server/logger.js';
import { UsageError, type ServeConfig } from './serve-options.js';

/** Write errors are logged: the first, then every `LOG_EVERY`th (a failing disk fails every batch). */
const LOG_EVERY = 100;

export function auditOptions(config: ServeConfig, logger?: Logger): Pick<RuntimeOptions, 'audit'> {
  if (!config.auditLog) {
    if (config.auditOverflow || config.auditKeyFile) throw new UsageError('--audit-overflow and --audit-key-file need --audit-log DIR');
    return {};
  }
  let key: string | undefined;
  if (config.auditKeyFile) {
    try {
      key = readFileSync(config.auditKeyFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--audit-key-file: cannot read ${config.auditKeyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (key === '') throw new UsageError(`--audit-key-file: ${config.auditKeyFile} is empty`);
  }
  return {
    audit: {
      path: config.auditLog,
      ...(config.auditOverflow ? { overflow: config.auditOverflow as AuditOverflowPolicy } : {}),
      ...(key !== undefined ? { checkpointKey: key } : {}),
      ...(logger ? { onError: writeErrorLogger(logger) } : {}),
    },
  };
}

function writeErrorLogger(logger: Logger): (err: Error) => void {
  let errors = 0;
  return (err) => {
    if (errors++ % LOG_EVERY === 0) {
      logger.warn('audit trail write failed; records stay buffered and are retried (the overflow policy acts when the buffer fills)', { errors, err: err.message });
    }
  };
}
