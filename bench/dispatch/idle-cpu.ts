/**
 * `npm run bench -- idle`: what an idle `serval serve` costs. Starts it on a model repository (the bundled
 * models by default), waits for it to settle, then reads every thread's CPU time from /proc over a window
 * with no traffic and prints the share of one core used, per thread and in all.
 *
 *   npm run bench -- idle [--model-repository models] [--seconds 10] [--settle 3] [--server-args "..."] [--serve-dir CHECKOUT]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { entryPoint } from '../paths.js';
import { spawnServer } from '../named/servers.js';
import { threadCpuNs } from './cpu-readings.js';

function threads(pid: number): Map<string, { name: string; ns: number }> {
  const out = new Map<string, { name: string; ns: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, { name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), ns: threadCpuNs(pid, Number(tid)) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'model-repository': { type: 'string', default: 'models' },
      seconds: { type: 'string', default: '10' },
      settle: { type: 'string', default: '3' },
      'server-args': { type: 'string', default: '' },
      'serve-dir': { type: 'string' },
    },
  });
  const extra = values['server-args'] ? values['server-args'].split(' ').filter(Boolean) : [];
  // --serve-dir: another checkout (built), e.g. an older commit to compare with.
  const entry = values['serve-dir'] ? { file: join(values['serve-dir'], 'dist', 'src', 'cli', 'main.js'), execArgv: [] } : entryPoint('src/cli/main');
  const server = await spawnServer('serval serve', { ...entry, args: ['serve', '--model-repository', values['model-repository']!, '--http-port', '0', '--grpc-port', '0', ...extra] });
  try {
    await new Promise((r) => setTimeout(r, Number(values.settle) * 1000));
    const before = threads(server.pid);
    const seconds = Number(values.seconds);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = threads(server.pid);
    const rows: { tid: string; name: string; pct: number }[] = [];
    for (const [tid, a] of after) {
      const b = before.get(tid);
      rows.push({ tid, name: a.name, pct: ((a.ns - (b?.ns ?? 0)) / (seconds * 1e9)) * 100 });
    }
    rows.sort((x, y) => y.pct - x.pct);
    const total = rows.reduce((s, r) => s + r.pct, 0);
    process.stdout.write(`idle serval serve (${values['model-repository']}), ${rows.length} threads, ${seconds} s with no traffic: ${total.toFixed(3)}% of one core\n`);
    for (const r of rows.filter((x) => x.pct >= 0.005)) process.stdout.write(`  ${r.tid} ${r.name}: ${r.pct.toFixed(3)}%\n`);
    return 0;
  } finally {
    await server.stop();
  }
}
