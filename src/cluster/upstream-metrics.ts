/**
 * Prometheus series of `serval route`'s replicas, registered by ServerMetrics when the runtime is a router
 * (it has `upstreamStatus`): state, outlier ejections, and each replica's last ORCA load report.
 *   serval_upstream_up{upstream}                         1 while the replica takes requests, else 0
 *   serval_upstream_ejections_total{upstream}            times outlier detection ejected it
 *   serval_upstream_queue_depth{upstream}                its reported queued requests
 *   serval_upstream_in_flight{upstream}                  its reported admitted, unanswered requests
 *   serval_upstream_predicted_delay_seconds{upstream}    its reported queueing delay for a new request
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { UpstreamStatus } from './upstream-set.js';

export function registerUpstreamMetrics(registry: Registry, status: () => UpstreamStatus[]): void {
  const registers = [registry];
  const gauge = (name: string, help: string, value: (u: UpstreamStatus) => number | undefined): void => {
    new Gauge({
      name, help, labelNames: ['upstream'] as const, registers,
      collect() {
        this.reset();
        for (const u of status()) {
          const v = value(u);
          if (v !== undefined) this.set({ upstream: u.url }, v);
        }
      },
    });
  };
  gauge('serval_upstream_up', 'Whether the router sends requests to the replica (1) or not (0: probing or ejected).', (u) => (u.state === 'ready' ? 1 : 0));
  gauge('serval_upstream_queue_depth', 'Queued requests the replica reported with its last answer (ORCA endpoint-load-metrics).', (u) => u.load?.queueDepth);
  gauge('serval_upstream_in_flight', 'Admitted, unanswered requests the replica reported with its last answer.', (u) => u.load?.inFlight);
  gauge('serval_upstream_predicted_delay_seconds', 'Queueing delay for a new request the replica reported with its last answer.',
    (u) => (u.load ? u.load.predictedDelayMs / 1000 : undefined));
  new Counter({
    name: 'serval_upstream_ejections_total', help: 'Times outlier detection ejected the replica (consecutive failed forwards).',
    labelNames: ['upstream'] as const, registers,
    collect() {
      this.reset();
      for (const u of status()) this.inc({ upstream: u.url }, u.ejections);
    },
  });
}
