/**
 * identity_at_shape (test model): identity_all_types at one fixed shape: for every type serval serves, an
 * input `in_<v2 name>` of `shape` copied by Identity to `out_<v2 name>`. Fixed dimensions, so it does not
 * batch; shape [] makes every tensor a scalar. Used to sweep every type over ranks 0 to 5.
 */
import { GraphBuilder } from './graph-builder.js';
import { IDENTITY_TYPES } from './identity-all-types.js';

export function buildIdentityAtShape(shape: readonly number[]): Uint8Array {
  const g = new GraphBuilder(`identity_rank${shape.length}`);
  for (const [name, type] of IDENTITY_TYPES) {
    const input = g.input(`in_${name}`, type, shape);
    g.output(`out_${name}`, type, shape);
    g.op('Identity', [input], undefined, `out_${name}`);
  }
  return g.encode();
}
