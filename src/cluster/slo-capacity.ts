/**
 * The autoscaling signal: how much of a replica's SLO capacity the observed arrivals use.
 *
 * capacity: each instance, at batch size b, finishes a batch every l(b) seconds (its measured latency
 * profile). Under a standing queue a request waits for the batch in progress and then runs in its own, so
 * batch size b meets a latency objective S when 2 l(b) <= S; the instance then serves b / l(b) requests per
 * second. Its SLO capacity is the best such rate (without an SLO: the best rate at any batch size), and the
 * replica's is the sum over instances. utilisation = arrival rate / capacity; a fleet needs
 * ceil(sum over replicas of utilisation / target) replicas, which is what an HPA with an AverageValue target
 * (or KEDA's AverageValue trigger on the sum) computes. Unlike CPU utilisation, it knows that a busy
 * instance batching at b = 1 can still serve several times more at larger batches.
 */

export interface ProfilePoint { batchSize: number; seconds: number }

/** Requests per second one instance serves within `sloSeconds` (0: no objective), from its latency profile. */
export function instanceSloCapacity(profile: readonly ProfilePoint[], sloSeconds: number, maxBatchSize: number): number {
  let best = 0;
  let fallback = 0;
  let smallest = Infinity;
  for (const p of profile) {
    if (!(p.seconds > 0) || p.batchSize < 1 || p.batchSize > Math.max(1, maxBatchSize)) continue;
    const rate = p.batchSize / p.seconds;
    if (sloSeconds <= 0 || 2 * p.seconds <= sloSeconds) best = Math.max(best, rate);
    // For when no batch size meets the objective: the smallest batch's rate (scaling out is still what helps).
    if (p.batchSize < smallest) { smallest = p.batchSize; fallback = rate; }
  }
  return best > 0 ? best : fallback;
}

/** Arrival rate per key from cumulative request counters sampled at scrape times. */
export class ArrivalRate {
  private readonly previous = new Map<string, { count: number; at: number }>();

  /** Requests per second since the previous sample of `key` (the first sample: over `uptimeSeconds`). */
  sample(key: string, count: number, atSeconds: number, uptimeSeconds: number): number {
    const prev = this.previous.get(key);
    this.previous.set(key, { count, at: atSeconds });
    if (prev && atSeconds > prev.at && count >= prev.count) return (count - prev.count) / (atSeconds - prev.at);
    return uptimeSeconds > 0 ? count / uptimeSeconds : 0;
  }

  /** Forgets keys not sampled in the last round (unloaded versions). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.previous.keys()) if (!keys.has(k)) this.previous.delete(k);
  }
}
