/**
 * An inference that returns its explanation with the prediction (`rt.inferExplained`, v2
 * `parameters.explain: true`), recorded in the audit trail as one decision carrying the explanation. The
 * prediction runs as a normal request; the explanation's evaluations run beside it at low priority. An
 * explanation that fails (deadline, bad option) never fails the prediction: its error is returned instead.
 */
import type { InferInputs, InferOptions, InferOutputs } from '../api-types.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { ServalError } from '../errors.js';
import type { Explanation, ExplainOptions } from './explain-options.js';
import { explain, type ExplainHost } from './explainer.js';

export interface ExplainedInference {
  outputs: InferOutputs;
  /** Absent when the explanation failed; `explanationError` says why. */
  explanation?: Explanation;
  explanationError?: { code: string; message: string };
}

export async function inferExplained(
  host: ExplainHost, audit: AuditTrail | undefined, model: string, inputs: InferInputs, options?: InferOptions, explainOptions?: ExplainOptions,
): Promise<ExplainedInference> {
  const ticket = audit ? await audit.begin(model, inputs, options) : undefined;
  const explaining = explain(host, model, inputs, { ...explainOptions, ...(options?.version !== undefined ? { version: options.version } : {}) }).then(
    (explanation) => ({ explanation }),
    (err: unknown) => ({ explanationError: { code: err instanceof ServalError ? err.code : 'INTERNAL', message: String((err as Error)?.message ?? err) } }),
  );
  let outputs: InferOutputs;
  try {
    outputs = await host.inferUnaudited(model, inputs, options);
  } catch (error) {
    await explaining;
    ticket?.finish({ error });
    throw error;
  }
  const result = await explaining;
  ticket?.finish({ outputs }, 'explanation' in result ? result.explanation : { error: result.explanationError });
  return { outputs, ...result };
}
