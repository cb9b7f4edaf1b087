// fraud_postprocess: fraud probability → decision and reason, per row. Runs in serval's JavaScript backend.
// Thresholds come from config.pbtxt parameters (review_threshold, decline_threshold).

let review = 0.5;
let decline = 0.8;

export function initialize({ config }) {
  review = Number(config.parameters.review_threshold ?? review);
  decline = Number(config.parameters.decline_threshold ?? decline);
  if (!(review >= 0 && review <= decline && decline <= 1)) {
    throw new Error(`thresholds must satisfy 0 <= review_threshold <= decline_threshold <= 1, got ${review} and ${decline}`);
  }
}

export function execute(batch) {
  const rows = batch.size;
  const p = batch.inputs.probability.data;
  const parseError = batch.inputs.parse_error.data;
  const decision = new Array(rows);
  const reason = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const score = p[r].toFixed(3);
    if (parseError[r]) {
      decision[r] = 'invalid';
      reason[r] = `invalid transaction: ${parseError[r]}`;
    } else if (p[r] >= decline) {
      decision[r] = 'decline';
      reason[r] = `fraud probability ${score} >= decline threshold ${decline}`;
    } else if (p[r] >= review) {
      decision[r] = 'review';
      reason[r] = `fraud probability ${score} >= review threshold ${review}`;
    } else {
      decision[r] = 'approve';
      reason[r] = `fraud probability ${score} < review threshold ${review}`;
    }
  }
  return { decision: { data: decision, dims: [rows, 1] }, reason: { data: reason, dims: [rows, 1] } };
}
