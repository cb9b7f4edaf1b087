/**
 * Sweep progress on stderr: a cli-progress bar on a terminal; otherwise (CI, pipes, child processes) one
 * line per finished step, so logs still show how far a long run got.
 */
import cliProgress from 'cli-progress';
import { fmtMs, fmtRate } from './report/format.js';
import type { StepResult } from './report/types.js';

export interface Progress {
  /** A step (or trial) is starting. */
  start(index: number, total: number, label: string): void;
  /** It finished; `result` when it produced one. */
  done(index: number, total: number, label: string, result?: StepResult): void;
  stop(): void;
}

export function summaryLine(r: StepResult): string {
  const failed = r.failed > 0 ? `, ${r.failed} failed` : '';
  const slo = r.attainment !== null ? `, SLO ${(r.attainment * 100).toFixed(1)}%` : '';
  return `${fmtRate(r.throughput)} infer/s, p50 ${fmtMs(r.latencyMs.p50)} ms, p99 ${fmtMs(r.latencyMs.p99)} ms${slo}${failed}`;
}

export function createProgress(title: string, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { start() {}, done() {}, stop() {} };
  if (!stream.isTTY) {
    return {
      start() {},
      done(i, total, label, result) {
        stream.write(`[${i + 1}/${total}] ${title} ${label}${result ? `: ${summaryLine(result)}` : ''}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: `${title} [{bar}] {value}/{total} {step}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(i, total, label) {
      if (!started) bar.start(total, i, { step: label });
      else bar.update(i, { step: label });
      started = true;
    },
    done(i, total, label, result) {
      bar.update(i + 1, { step: result ? `${label}: ${summaryLine(result)}` : label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
