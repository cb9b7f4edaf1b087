/**
 * UpstreamSet: which replicas the router may send to. Replicas come from `--upstream` URLs and from DNS
 * names (`--upstream-dns`, a headless Service) re-resolved every `dnsRefreshMs`. Every replica, new or
 * ejected, must pass its readiness probe (`GET /v2/health/ready` → 200) before it serves; a replica whose
 * forwards fail `ejectAfterFailures` times in a row is ejected (outlier detection) and probed back every
 * `probeIntervalMs`. `onChange` hears the ready list whenever it changes (sorted, so equal sets compare equal).
 *
 * Lifecycle: start() → changes as replicas come and go → close() (stops the timers, closes the probe client).
 * Main thread only.
 */
import { lookup } from 'node:dns/promises';
import { Agent, request } from 'undici';
import type { LoadReport } from './load-report.js';
import type { DnsUpstream } from './route-options.js';

export interface UpstreamSetOptions {
  urls: string[];
  dns: DnsUpstream[];
  dnsRefreshMs: number;
  ejectAfterFailures: number;
  probeIntervalMs: number;
  onChange(ready: string[]): void;
  /** Resolves a DNS name to its addresses. @default dns.promises.lookup(host, { all: true }) */
  lookup?(host: string): Promise<{ address: string; family: number }[]>;
  /** Replica state changes worth a log line. */
  onEvent?(e: { kind: 'ready' | 'ejected' | 'removed' | 'added'; url: string; reason?: string }): void;
}

export interface UpstreamStatus {
  url: string;
  state: 'probing' | 'ready' | 'ejected';
  consecutiveFailures: number;
  ejections: number;
  lastError?: string;
  /** The replica's last ORCA load report (absent until one arrived). */
  load?: LoadReport;
}

interface Upstream extends UpstreamStatus {
  /** From a DNS name (removed when the name stops listing it) rather than a static URL. */
  fromDns: boolean;
}

export class UpstreamSet {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly probeAgent = new Agent({ keepAliveTimeout: 1000, connections: 4 });
  private lastReady = '';
  private closed = false;

  constructor(private readonly options: UpstreamSetOptions) {}

  async start(): Promise<void> {
    for (const url of this.options.urls) this.add(url, false);
    await this.resolveDns();
    await this.probeAll();
    if (this.options.dns.length) this.every(this.options.dnsRefreshMs, () => this.resolveDns());
    this.every(this.options.probeIntervalMs, () => this.probeAll());
  }

  ready(): string[] {
    return [...this.upstreams.values()].filter((u) => u.state === 'ready').map((u) => u.url).sort();
  }

  status(): UpstreamStatus[] {
    return [...this.upstreams.values()].map(({ fromDns: _d, ...s }) => ({ ...s })).sort((a, b) => a.url.localeCompare(b.url));
  }

  /** A forward to `url` failed: eject it after `ejectAfterFailures` in a row. */
  noteFailure(url: string, message: string): void {
    const u = this.upstreams.get(url);
    if (!u) return;
    u.consecutiveFailures++;
    u.lastError = message;
    if (u.state === 'ready' && u.consecutiveFailures >= this.options.ejectAfterFailures) {
      u.state = 'ejected';
      u.ejections++;
      this.options.onEvent?.({ kind: 'ejected', url, reason: message });
      this.changed();
    }
  }

  noteSuccess(url: string): void {
    const u = this.upstreams.get(url);
    if (u) u.consecutiveFailures = 0;
  }

  noteLoad(url: string, report: LoadReport): void {
    const u = this.upstreams.get(url);
    if (u) u.load = report;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.probeAgent.close();
  }

  private every(ms: number, f: () => Promise<void>): void {
    let running = false;
    const t = setInterval(() => {
      if (running || this.closed) return;
      running = true;
      void f().finally(() => void (running = false));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private add(url: string, fromDns: boolean): void {
    if (this.upstreams.has(url)) return;
    this.upstreams.set(url, { url, state: 'probing', consecutiveFailures: 0, ejections: 0, fromDns });
    this.options.onEvent?.({ kind: 'added', url });
  }

  /** Adds the addresses DNS lists now and removes DNS-found replicas it no longer lists. A failed lookup changes nothing. */
  private async resolveDns(): Promise<void> {
    if (this.options.dns.length === 0) return;
    const found = new Set<string>();
    for (const d of this.options.dns) {
      let addresses;
      try {
        addresses = await (this.options.lookup ? this.options.lookup(d.host) : lookup(d.host, { all: true }));
      } catch {
        return;  // NXDOMAIN or a resolver hiccup: keep the current set rather than drop every replica
      }
      for (const a of addresses) found.add(a.family === 6 ? `http://[${a.address}]:${d.port}` : `http://${a.address}:${d.port}`);
    }
    for (const url of found) this.add(url, true);
    let removed = false;
    for (const u of [...this.upstreams.values()]) {
      if (u.fromDns && !found.has(u.url)) {
        this.upstreams.delete(u.url);
        this.options.onEvent?.({ kind: 'removed', url: u.url });
        removed = true;
      }
    }
    if (removed) this.changed();
  }

  private async probeAll(): Promise<void> {
    const waiting = [...this.upstreams.values()].filter((u) => u.state !== 'ready');
    const results = await Promise.all(waiting.map((u) => this.probe(u.url)));
    let changed = false;
    waiting.forEach((u, i) => {
      if (!results[i] || this.upstreams.get(u.url) !== u) return;
      u.state = 'ready';
      u.consecutiveFailures = 0;
      this.options.onEvent?.({ kind: 'ready', url: u.url });
      changed = true;
    });
    if (changed) this.changed();
  }

  private async probe(url: string): Promise<boolean> {
    try {
      const res = await request(`${url}/v2/health/ready`, { dispatcher: this.probeAgent, headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  private changed(): void {
    const ready = this.ready();
    const key = ready.join(' ');
    if (key === this.lastReady) return;
    this.lastReady = key;
    this.options.onChange(ready);
  }
}
