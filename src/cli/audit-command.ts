/**
 * `serval audit verify DIR [--key-file F]` and `serval audit query DIR [--model M] [--since T] [--id ID]
 * [--limit N]`. verify prints how many records it verified and exits 1 at the first break, naming it;
 * query prints the matching records as JSON lines (oldest first). Usage errors exit 2.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { queryTrail, parseSince, type AuditQuery } from '../audit/audit-query.js';
import { verifyTrail } from '../audit/audit-verify.js';
import { ServalError } from '../errors.js';

export async function run(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('serval audit').exitOverride().description('check and read a decision audit trail (serval serve --audit-log DIR)');
  program
    .command('verify')
    .argument('<dir>', 'the audit trail directory')
    .option('--key-file <file>', 'check checkpoint signatures with the key in this file (serve --audit-key-file)')
    .option('--json', 'print the result as JSON')
    .description('check the hash chain and the published checkpoints; exit 1 at the first break')
    .action((dir: string, o: { keyFile?: string; json?: boolean }) => {
      const key = o.keyFile ? readFileSync(o.keyFile, 'utf8').trim() : undefined;
      const r = verifyTrail(dir, key !== undefined ? { checkpointKey: key } : {});
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        if (r.ok) process.stdout.write(`verified ${r.verified} records in ${r.segments} segment(s), ${r.checkpoints} checkpoint(s); last record ${r.lastSeq} hash ${r.lastHash}\n`);
        else {
          const where = [r.break?.segment, r.break?.seq !== undefined ? `record ${r.break.seq}` : undefined].filter(Boolean).join(', ');
          process.stdout.write(`BROKEN after ${r.verified} verified records${where ? ` (${where})` : ''}: ${r.break?.reason}\n`);
        }
      }
      code = r.ok ? 0 : 1;
    });
  program
    .command('query')
    .argument('<dir>', 'the audit trail directory')
    .option('--model <name>', 'only this model')
    .option('--since <time>', 'arrived at or after: ISO time, epoch ms, or an age like 15m, 2h, 7d')
    .option('--id <id>', 'only this request id')
    .option('--limit <n>', 'at most n records')
    .description('print matching records as JSON lines, oldest first')
    .action((dir: string, o: { model?: string; since?: string; id?: string; limit?: string }) => {
      const q: AuditQuery = {};
      if (o.model !== undefined) q.model = o.model;
      if (o.since !== undefined) q.sinceMs = parseSince(o.since);
      if (o.id !== undefined) q.id = o.id;
      if (o.limit !== undefined) {
        const n = Number(o.limit);
        if (!Number.isSafeInteger(n) || n < 1) return usage(`--limit must be a positive integer, got ${JSON.stringify(o.limit)}`);
        q.limit = n;
      }
      for (const r of queryTrail(dir, q)) process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  const usage = (message: string) => {
    process.stderr.write(`serval audit: ${message}\n`);
    code = 2;
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ServalError && err.code === 'INVALID_ARGUMENT') { usage(err.message); return 2; }
    process.stderr.write(`serval audit: ${(err as Error).message}\n`);
    return 1;
  }
  return code;
}
