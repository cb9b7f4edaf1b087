/** The Open Inference Protocol v2 codec: request decoding, response encoding, tensor conversion. */
export { decodeInferRequest, parseHeaderLength, parseJsonObject } from './v2-request.js';
export type { DecodedInferRequest, ResponsePlan } from './v2-request.js';
export { encodeInferResponse } from './v2-response.js';
export type { EncodedResponse } from './v2-response.js';
export { fromHalfBits, toHalfBits } from './fp16.js';
