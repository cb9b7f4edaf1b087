/**
 * `npm run bench -- jsthread`: the JavaScript thread's CPU time per embedded request (issue 10's first
 * figure), read from the kernel's per-thread scheduler statistics (/proc/self/task/PID/schedstat, in ns)
 * around a closed loop of `Runtime.infer` calls on one model. Also reports the whole process's CPU per
 * request and the rate, so a change can be judged by CPU, not by wall-clock speed on a shared machine.
 *
 *   npm run bench -- jsthread [--model fraud_mlp] [--concurrency 512] [--requests 200000] [--runs 5]
 */
import { parseArgs } from 'node:util';
import { commonCpuOptions, median, medianRange, threadCpuNs } from './cpu-readings.js';
import { Runtime } from '../../src/runtime.js';

function mainThreadNs(): number {
  try {
    return threadCpuNs(process.pid);
  } catch {
    const u = process.cpuUsage(); // not per thread: an upper bound where schedstat is missing
    return (u.user + u.system) * 1000;
  }
}

export interface JsThreadPoint {
  concurrency: number;
  requests: number;
  jsThreadUsPerRequest: number;
  processCpuUsPerRequest: number;
  perSecond: number;
  p50Us: number;
}

async function closedLoop(rt: Runtime, model: string, inputs: Record<string, unknown>, concurrency: number, requests: number): Promise<JsThreadPoint> {
  let issued = 0;
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const js0 = mainThreadNs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < requests) {
      issued++;
      const s = concurrency === 1 ? performance.now() : 0;
      await rt.infer(model, inputs as never);
      if (concurrency === 1) lat.push(performance.now() - s);
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const js = mainThreadNs() - js0;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  return {
    concurrency,
    requests,
    jsThreadUsPerRequest: js / 1000 / requests,
    processCpuUsPerRequest: (cpu.user + cpu.system) / requests,
    perSecond: requests / wall,
    p50Us: lat.length ? lat[Math.floor(lat.length / 2)]! * 1000 : NaN,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...commonCpuOptions('5'),
      concurrency: { type: 'string', default: '1,512' },
      requests: { type: 'string', default: '100000' },
      json: { type: 'boolean', default: false },
    },
  });
  const model = values.model!;
  const rt = await Runtime.open({ modelRepository: values['model-repository']!, loadModels: [model] });
  try {
    const config = rt.config(model);
    if (config.input.some((t) => t.dataType !== 'FP32')) throw new Error(`jsthread: ${model} has non-FP32 inputs; pick an FP32 model`);
    const batch = config.maxBatchSize > 0 ? [1] : [];
    const inputs = Object.fromEntries(config.input.map((t) => {
      const dims = [...batch, ...t.dims];
      const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => (i % 7) / 7);
      return [t.name, { type: 'float32', dims, data }];
    }));
    const requests = Number(values.requests);
    const rows: JsThreadPoint[][] = [];
    for (const c of values.concurrency!.split(',').map(Number)) {
      const n = c === 1 ? Math.min(requests, 20_000) : requests;
      await closedLoop(rt, model, inputs, c, Math.min(n, 20_000)); // warm-up
      const runs: JsThreadPoint[] = [];
      for (let i = 0; i < Number(values.runs); i++) runs.push(await closedLoop(rt, model, inputs, c, n));
      rows.push(runs);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    process.stdout.write(`model ${model}; median of ${values.runs} runs [min-max]; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    process.stdout.write('| concurrency | JS thread µs/request | process CPU µs/request | requests/s | p50 µs (c=1) |\n|---:|---:|---:|---:|---:|\n');
    for (const runs of rows) {
      const f = (k: keyof JsThreadPoint, d = 2) => medianRange(runs.map((r) => r[k] as number), d);
      process.stdout.write(`| ${runs[0]!.concurrency} | ${f('jsThreadUsPerRequest')} | ${f('processCpuUsPerRequest')} | ${f('perSecond', 0)} | ${runs[0]!.concurrency === 1 ? f('p50Us', 1) : '-'} |\n`);
    }
    return 0;
  } finally {
    await rt.close();
  }
}
