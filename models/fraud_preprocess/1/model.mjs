// fraud_preprocess: raw transactions (one JSON object per row) → the 128 features of fraud_mlp.
// Runs in serval's JavaScript backend (an executor thread; batches from the native batcher).
//
// A row is a JSON object with these fields (all optional except amount):
//   amount (number), avg_amount_30d (number), card_age_days, tx_count_24h, distance_from_home_km (numbers),
//   hour (0-23), merchant_category, merchant_id, country (strings), is_foreign, is_online, new_device (booleans).
// A row that is not such an object gets zero features and its reason in parse_error: the other rows of the
// batch are unaffected, and fraud_postprocess answers that row with decision "invalid".

const FEATURES = 128;
const HOUR = 9;          // 9..32: hour of day, one-hot
const MERCHANT = 33;     // 33..64: merchant_category, hashed
const COUNTRY = 65;      // 65..96: country, hashed
const DISTANCE = 97;
const MERCHANT_ID = 98;  // 98..127: merchant_id, hashed
const BUCKETS = 32;
const ID_BUCKETS = 30;

/** FNV-1a of a string, for stable hashed one-hot buckets. */
function bucket(text, n) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

function num(tx, key, fallback) {
  const v = tx[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`field '${key}' must be a finite number`);
  return v;
}

function flag(tx, key) {
  const v = tx[key];
  if (v === undefined) return 0;
  if (typeof v !== 'boolean') throw new Error(`field '${key}' must be true or false`);
  return v ? 1 : 0;
}

function text(tx, key) {
  const v = tx[key];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new Error(`field '${key}' must be a string`);
  return v;
}

/** Writes one transaction's features at `out[base..base+128)`. Throws with the reason for a bad row. */
export function featurize(json, out, base) {
  let tx;
  try {
    tx = JSON.parse(json);
  } catch {
    throw new Error('transaction is not valid JSON');
  }
  if (tx === null || typeof tx !== 'object' || Array.isArray(tx)) throw new Error('transaction must be a JSON object');
  const amount = num(tx, 'amount', NaN);
  if (!(amount >= 0)) throw new Error("field 'amount' is required and must be >= 0");
  const avg = num(tx, 'avg_amount_30d', amount);
  const hour = num(tx, 'hour', 12);
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new Error("field 'hour' must be an integer in 0..23");
  out[base + 0] = Math.log1p(amount) / 10;
  out[base + 1] = Math.min(10, amount / (avg > 0 ? avg : 1)) / 10;
  out[base + 2] = Math.log1p(Math.max(0, num(tx, 'card_age_days', 365))) / 8;
  out[base + 3] = Math.log1p(Math.max(0, num(tx, 'tx_count_24h', 1))) / 5;
  out[base + 4] = flag(tx, 'is_foreign');
  out[base + 5] = flag(tx, 'is_online');
  out[base + 6] = flag(tx, 'new_device');
  out[base + 7] = Math.sin((2 * Math.PI * hour) / 24);
  out[base + 8] = Math.cos((2 * Math.PI * hour) / 24);
  out[base + HOUR + hour] = 1;
  out[base + MERCHANT + bucket(text(tx, 'merchant_category'), BUCKETS)] = 1;
  out[base + COUNTRY + bucket(text(tx, 'country'), BUCKETS)] = 1;
  out[base + DISTANCE] = Math.log1p(Math.max(0, num(tx, 'distance_from_home_km', 0))) / 10;
  out[base + MERCHANT_ID + bucket(text(tx, 'merchant_id'), ID_BUCKETS)] = 1;
}

export function execute(batch) {
  const rows = batch.size;
  const transactions = batch.inputs.transaction.data;
  const features = new Float32Array(rows * FEATURES);
  const errors = new Array(rows);
  for (let r = 0; r < rows; r++) {
    try {
      featurize(transactions[r], features, r * FEATURES);
      errors[r] = '';
    } catch (err) {
      features.fill(0, r * FEATURES, (r + 1) * FEATURES);
      errors[r] = err.message;
    }
  }
  return { features: { data: features, dims: [rows, FEATURES] }, parse_error: { data: errors, dims: [rows, 1] } };
}
