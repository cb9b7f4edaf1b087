/**
 * Method + path-pattern routing (`/v2/models/:model/versions/:version/infer`). An unknown path is
 * 404, a known path with the wrong method 405 with `Allow`; parameters arrive percent-decoded.
 */
import { errorResponse, type IncomingRequest, type OutgoingResponse } from './http-transport.js';

export type RouteHandler = (req: IncomingRequest, params: Record<string, string>) => OutgoingResponse | Promise<OutgoingResponse>;

export interface RouteMatch {
  /** The pattern as registered; a low-cardinality label for metrics. */
  pattern: string;
  handler: RouteHandler;
  params: Record<string, string>;
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: RouteHandler;
}

const splitPath = (path: string): string[] => path.split('/').filter((s) => s !== '');

/** Distinct (method, path) matches remembered: clients call the same few paths over and over. */
const MATCH_CACHE_SIZE = 1024;

export class Router {
  private readonly routes: Route[] = [];
  /** Matches (never errors) by `method path`; params are frozen so handlers cannot change a shared entry. */
  private readonly cache = new Map<string, RouteMatch>();

  /** Registers a route; earlier routes win when two patterns match (list literal paths first). */
  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method: method.toUpperCase(), pattern, segments: splitPath(pattern), handler });
    return this;
  }

  /** The route for `method` and `path`, or the 404/405/400 response to send instead. */
  match(method: string, path: string): RouteMatch | OutgoingResponse {
    const key = `${method} ${path}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const m = this.search(method, path);
    if (isRouteMatch(m)) {
      if (this.cache.size >= MATCH_CACHE_SIZE) this.cache.clear();
      Object.freeze(m.params);
      this.cache.set(key, m);
    }
    return m;
  }

  private search(method: string, path: string): RouteMatch | OutgoingResponse {
    const parts = splitPath(path);
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (params === undefined) continue;
      if (params === null) return errorResponse(400, `malformed percent-encoding in path ${path}`);
      if (route.method === method) {
        return { pattern: route.pattern, handler: route.handler, params };
      }
      allowed.add(route.method);
    }
    if (allowed.size === 0) return errorResponse(404, `no route for ${path}`);
    return errorResponse(405, `${method} is not allowed on ${path}`, { allow: [...allowed].join(', ') });
  }
}

export function isRouteMatch(m: RouteMatch | OutgoingResponse): m is RouteMatch {
  return 'handler' in m;
}

/** Params on a match, undefined when the path does not match, null when a parameter cannot be decoded. */
function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined | null {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
    else if (p !== parts[i]) return undefined;
  }
  try {
    for (const k of Object.keys(params)) params[k] = decodeURIComponent(params[k]!);
  } catch {
    return null;
  }
  return params;
}
