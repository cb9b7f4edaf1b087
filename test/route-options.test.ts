/** `serval route` option validation: every bad value is a UsageError naming the flag or variable. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/serve-options.js';
import { resolveRouteConfig } from '../src/cluster/route-options.js';

const up = { upstream: ['http://10.0.0.5:8000'] };

describe('route options', () => {
  it('defaults, flags over environment, lists from the environment', () => {
    const c = resolveRouteConfig(up, {});
    expect(c).toMatchObject({ httpPort: 8000, host: '127.0.0.1', policy: 'least_outstanding', admission: 'none', ejectAfterFailures: 3, dnsRefreshSecs: 5, modelRefreshSecs: 15 });
    expect(c.slotsPerUpstream).toBeUndefined();
    expect(c.grpcPort).toBeUndefined();
    const env = { SERVAL_UPSTREAM: 'http://a:1, http://b:2/', SERVAL_UPSTREAM_DNS: 'svc.ns:8000', SERVAL_POLICY: 'round_robin' };
    expect(resolveRouteConfig({}, env)).toMatchObject({ upstream: ['http://a:1', 'http://b:2'], upstreamDns: [{ host: 'svc.ns', port: 8000 }], policy: 'round_robin' });
    expect(resolveRouteConfig({ ...up, policy: 'power_of_two' }, env).policy).toBe('power_of_two');
    expect(resolveRouteConfig({ ...up, grpcPort: '0', slotsPerUpstream: '4' }, {})).toMatchObject({ grpcPort: 0, slotsPerUpstream: 4 });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no upstream at all', {}, /at least one --upstream URL or --upstream-dns/],
    ['an upstream that is not a URL', { upstream: ['10.0.0.5:8000'] }, /--upstream: '10.0.0.5:8000' is not a URL/],
    ['an upstream with a path', { upstream: ['http://h:1/v2'] }, /--upstream: 'http:\/\/h:1\/v2' must be an http:\/\/ base URL without a path/],
    ['an https upstream', { upstream: ['https://h:1'] }, /must be an http:\/\/ base URL/],
    ['a DNS upstream without a port', { upstreamDns: ['svc'] }, /--upstream-dns: 'svc' must be NAME:PORT/],
    ['a DNS upstream with port 0', { upstreamDns: ['svc:0'] }, /must be NAME:PORT/],
    ['slots 0', { ...up, slotsPerUpstream: '0' }, /--slots-per-upstream must be an integer from 1 to 64/],
    ['eject after 0 failures', { ...up, ejectAfterFailures: '0' }, /--eject-after-failures must be an integer from 1 to 1000/],
    ['a negative DNS refresh', { ...up, dnsRefreshSecs: '-1' }, /--dns-refresh-secs must be greater than zero/],
    ['a zero model refresh', { ...up, modelRefreshSecs: '0' }, /--model-refresh-secs must be greater than zero/],
    ['a non-numeric probe interval', { ...up, probeIntervalSecs: 'soon' }, /--probe-interval-secs must be a number/],
    ['a zero upstream timeout', { ...up, upstreamTimeoutSecs: '0' }, /--upstream-timeout-secs must be greater than zero/],
    ['a port out of range', { ...up, httpPort: '70000' }, /--http-port must be an integer from 0 to 65535/],
    ['a bad gRPC port', { ...up, grpcPort: 'x' }, /--grpc-port must be a number/],
    ['a bad log format', { ...up, logFormat: 'xml' }, /--log-format must be one of pretty, json/],
    ['a bad readiness flag', { ...up, strictReadiness: 'yes' }, /--strict-readiness must be true or false/],
  ];
  for (const [name, cli, message] of bad) {
    it(`bad input: ${name}`, () => {
      expect(() => resolveRouteConfig(cli, {})).toThrow(UsageError);
      expect(() => resolveRouteConfig(cli, {})).toThrow(message);
    });
  }

  it('bad input from the environment names the variable', () => {
    expect(() => resolveRouteConfig({}, { SERVAL_UPSTREAM_DNS: 'nope' })).toThrow(/SERVAL_UPSTREAM_DNS: 'nope' must be NAME:PORT/);
  });
});
