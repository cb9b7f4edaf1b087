/**
 * Entry point of a trial's child process: receives one `TrialSpec` over IPC, runs it, answers with
 * `{ ok: true, steps }` or `{ ok: false, code, message }`, and exits.
 */
import { executeTrial, type TrialSpec } from './trial.js';

export type TrialReply = { ok: true; steps: Awaited<ReturnType<typeof executeTrial>> } | { ok: false; code: string; message: string };

process.once('message', (spec: TrialSpec) => {
  executeTrial(spec).then(
    (steps): TrialReply => ({ ok: true, steps }),
    (err: unknown): TrialReply => ({ ok: false, code: String((err as { code?: unknown }).code ?? 'ERROR'), message: (err as Error).message ?? String(err) }),
  ).then((reply) => {
    // Exit once the reply is out, whatever threads or sockets the target left behind.
    process.send!(reply, () => process.exit(0));
  });
});
