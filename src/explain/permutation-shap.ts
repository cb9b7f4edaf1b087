/**
 * Sampled permutation SHAP (Štrumbelj & Kononenko; shap's PermutationExplainer), model-free: `plan` lays
 * out the rows to evaluate, the caller evaluates them however it likes (the runtime batches them), and
 * `attribute` turns the values into attributions. Permutations come in antithetic pairs (an order and its
 * reverse). Walking one order from a background row z to the input x, switching one feature at a time,
 * credits each feature with the change it made; the credits of one walk sum to f(x) - f(z) exactly, so the
 * mean over walks is additive up to rounding.
 */

export interface PermutationPlan {
  features: number;
  /** Feature orders, one per walk. */
  orders: Uint32Array[];
  /** Background row index of each walk. */
  backgroundOf: number[];
  /**
   * The rows to evaluate, `features` floats each: row 0 is the input, rows 1..B the background rows used,
   * then each walk's `features - 1` intermediate rows in order.
   */
  rows: Float32Array;
  rowCount: number;
  /** First row of walk w: `walkStart(w)`. */
  backgroundRows: number[];
}

/** Walks that fit `samples` evaluations with `features` features and up to `backgroundCount` background rows. */
export function walksFor(samples: number, features: number, backgroundCount: number): number {
  const perWalk = Math.max(1, features - 1);
  // Each walk may bring a new background row (one evaluation) until all are used.
  for (let w = Math.floor((samples - 1) / perWalk); w >= 1; w--) {
    if (1 + Math.min(w, backgroundCount) + w * perWalk <= samples) return w % 2 === 1 && w > 1 ? w - 1 : w;
  }
  return 0;
}

/** Deterministic xorshift32 stream in [0, 1). */
function rng(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

function shuffled(n: number, next: () => number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
  return a;
}

export function plan(x: ArrayLike<number>, background: ArrayLike<number>[], walks: number, seed: number): PermutationPlan {
  const m = x.length;
  const next = rng(seed);
  const orders: Uint32Array[] = [];
  for (let w = 0; w < walks; w++) {
    if (w % 2 === 1) orders.push(orders[w - 1]!.slice().reverse());
    else orders.push(shuffled(m, next));
  }
  const used = Math.min(walks, background.length);
  const backgroundOf = orders.map((_, w) => w % used);
  const inner = Math.max(0, m - 1);
  const rowCount = 1 + used + walks * inner;
  const rows = new Float32Array(rowCount * m);
  rows.set(Array.from(x), 0);
  for (let b = 0; b < used; b++) rows.set(Array.from(background[b]!), (1 + b) * m);
  let r = 1 + used;
  orders.forEach((order, w) => {
    const current = Float32Array.from(background[backgroundOf[w]!]!);
    for (let k = 0; k < inner; k++) {
      const f = order[k]!;
      current[f] = x[f]!;
      rows.set(current, r * m);
      r++;
    }
  });
  return { features: m, orders, backgroundOf, rows, rowCount, backgroundRows: Array.from({ length: used }, (_, b) => 1 + b) };
}

/** The row index of walk `w`'s first intermediate row. */
export function walkStart(p: PermutationPlan, w: number): number {
  return 1 + p.backgroundRows.length + w * Math.max(0, p.features - 1);
}

export interface Attribution {
  prediction: number;
  baseline: number;
  attributions: number[];
  additivityError: number;
  standardError?: number[];
  walks: number;
}

/**
 * Attributions from the evaluated values (`values[row]`), over the walks listed in `complete` (those
 * whose rows were all evaluated). Sums in float64.
 */
export function attribute(p: PermutationPlan, values: ArrayLike<number>, complete: number[]): Attribution {
  const m = p.features;
  const fx = values[0]!;
  const sum = new Float64Array(m);
  const sumSq = new Float64Array(m);
  let baseline = 0;
  const credit = new Float64Array(m);
  for (const w of complete) {
    const order = p.orders[w]!;
    let previous = values[p.backgroundRows[p.backgroundOf[w]!]!]!;
    baseline += previous;
    const start = walkStart(p, w);
    credit.fill(0);
    for (let k = 0; k < m; k++) {
      const value = k < m - 1 ? values[start + k]! : fx;
      credit[order[k]!] = value - previous;
      previous = value;
    }
    for (let f = 0; f < m; f++) { sum[f]! += credit[f]!; sumSq[f]! += credit[f]! * credit[f]!; }
  }
  const n = complete.length;
  baseline /= n;
  const attributions = Array.from(sum, (s) => s / n);
  const total = attributions.reduce((a, b) => a + b, 0);
  const out: Attribution = { prediction: fx, baseline, attributions, additivityError: Math.abs(total - (fx - baseline)), walks: n };
  if (n >= 2) {
    out.standardError = attributions.map((mean, f) => Math.sqrt(Math.max(0, sumSq[f]! / n - mean * mean) / (n - 1)));
  }
  return out;
}
