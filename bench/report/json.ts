/** Reading and writing benchmark reports (`--json`, and the files `compare` reads). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname } from 'node:path';
import { BenchError } from '../errors.js';
import { type BenchReport, type HostInfo, REPORT_SCHEMA, type StepResult } from './types.js';

export function hostInfo(): HostInfo {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAverage: loadavg().map((v) => Number(v.toFixed(2))),
  };
}

export function buildReport(fields: { title: string; command: string; settings: Record<string, unknown>; steps: StepResult[]; notes?: string[] }): BenchReport {
  return { schema: REPORT_SCHEMA, createdAt: new Date().toISOString(), host: hostInfo(), ...fields };
}

export async function writeReport(file: string, report: BenchReport): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

export async function readReport(file: string): Promise<BenchReport> {
  let parsed: Partial<BenchReport>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<BenchReport>;
  } catch (err) {
    throw new BenchError('INVALID_FILE', `cannot read report ${file}: ${(err as Error).message}`);
  }
  if (parsed.schema !== REPORT_SCHEMA || !Array.isArray(parsed.steps)) {
    throw new BenchError('INVALID_FILE', `${file} is not a serval bench report (schema ${REPORT_SCHEMA})`);
  }
  return parsed as BenchReport;
}
