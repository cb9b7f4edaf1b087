/**
 * The Horizontal Pod Autoscaler's replica arithmetic (Kubernetes autoscaling/v2, as deploy/'s hpa.yaml
 * configures it), driven by any per-pod metric: every sync period, desired = ceil(ready x metric / target)
 * unless |metric / target - 1| <= tolerance; scale-up may at most double the count per period (Percent 100
 * per 15 s) and is immediate; scale-down takes the highest recommendation of the stabilisation window (300 s).
 * New pods cost from creation and serve after `startupS` (image pull, model load, readiness).
 */

export interface HpaSpec {
  target: number;
  /** @default 0.1 (the HPA's default tolerance) */
  tolerance?: number;
  minReplicas: number;
  maxReplicas: number;
  /** @default 300 */
  scaleDownStabilizationS?: number;
  /** @default 15 */
  syncPeriodS?: number;
  /** Seconds from a pod's creation until it serves. @default 30 */
  startupS?: number;
}

export class HpaController {
  private readonly recommendations: { at: number; replicas: number }[] = [];
  /** Creation times of pods that do not serve yet. */
  private starting: number[] = [];
  private ready: number;

  /** Starts with `initial` ready pods, as if it had recommended that count for the whole stabilisation window. */
  constructor(private readonly spec: HpaSpec, initial: number) {
    this.ready = initial;
    this.recommendations.push({ at: 0, replicas: initial });
  }

  /** Pods serving at time `t` (starting pods whose startup elapsed become ready). */
  readyAt(t: number): number {
    const startup = this.spec.startupS ?? 30;
    const done = this.starting.filter((c) => t - c >= startup).length;
    this.starting = this.starting.filter((c) => t - c < startup);
    this.ready += done;
    return this.ready;
  }

  /** Pods that cost resources (ready or starting). */
  get total(): number {
    return this.ready + this.starting.length;
  }

  /** One sync at time `t` with the pods' average metric; returns the pod count after it. */
  sync(t: number, metric: number): number {
    const s = this.spec;
    const current = this.total;
    const ratio = metric / s.target;
    let desired = Math.abs(ratio - 1) <= (s.tolerance ?? 0.1) ? current : Math.ceil(Math.max(1, this.ready) * ratio);
    desired = Math.min(s.maxReplicas, Math.max(s.minReplicas, desired));
    this.recommendations.push({ at: t, replicas: desired });
    const window = s.scaleDownStabilizationS ?? 300;
    while (this.recommendations.length && this.recommendations[0]!.at < t - window) this.recommendations.shift();
    let next = desired;
    if (desired < current) next = Math.min(current, Math.max(...this.recommendations.map((r) => r.replicas)));
    if (next > current) next = Math.min(next, current * 2);
    for (let i = current; i < next; i++) this.starting.push(t);
    for (let i = next; i < current; i++) {
      if (this.starting.length) this.starting.pop();
      else this.ready--;
    }
    return this.total;
  }
}
