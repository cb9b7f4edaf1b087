/** Messages for clients name model files repository-relative (redactPaths); the HTTP side is in v2-http-fidelity. */
import { describe, expect, it } from 'vitest';
import { redactPaths } from '../src/errors.js';

describe('redactPaths', () => {
  it('makes files under the repository relative and names the root itself', () => {
    expect(redactPaths('Load model from /srv/models/fraud/1/model.onnx failed', ['/srv/models'])).toBe('Load model from fraud/1/model.onnx failed');
    expect(redactPaths('model repository /srv/models/ is empty', ['/srv/models/'])).toBe('model repository <model repository>/ is empty');
  });
  it('applies the longest root first, so a resolved path inside another is not half replaced', () => {
    expect(redactPaths('/private/tmp/repo/m/1/model.onnx and /tmp/repo/m/config.pbtxt', ['/tmp/repo', '/private/tmp/repo']))
      .toBe('m/1/model.onnx and m/config.pbtxt');
  });
  it('leaves other text and a root of / alone', () => {
    expect(redactPaths('/usr/lib/x.so: bad', ['/srv/models', '/'])).toBe('/usr/lib/x.so: bad');
  });
});
