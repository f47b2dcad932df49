/**
 * The gateway side of the response cache (response-cache.ts). `httpHandler` answers a fresh hit before
 * moleculer-web's request action `api.rest` runs (so no context, middleware or service call); `sendResponse`
 * stores the plain JSON 200 answer of a cacheable miss and sends it as hits are sent. A hit still gets what the
 * route gives every request: CORS headers (a refused origin goes the normal way, to its 403), the route's rate
 * limit on the same store and key with the same X-Rate-Limit-* headers, and a trace id. Catalog changes, from
 * products and from the search read models, empty the cache at once.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";
import type { Config } from "../../config/env";
import { METRICS } from "../common/metrics";
import { PRODUCTS_CHANGED_BROADCAST, SEARCH_CHANGED_BROADCAST } from "../common/broadcasts";
import { cacheKey, notModified, ResponseCache, type CachedResponse } from "./response-cache";
import { correlationId } from "./http";

/** The route whose anonymous catalog reads are cached; its CORS and rate-limit settings apply to hits. */
export const CACHED_ROUTE_PATH = "/api/v1";

const JSON_TYPE = "application/json; charset=utf-8";
const HIT_LABELS = { result: "hit" };
const MISS_LABELS = { result: "miss" };
/** Marks a request that may be cached but was not answered from the cache. */
const PENDING = Symbol("responseCachePending");

interface PendingMiss {
	key: string;
	generation: number;
}

/** The parts of ctx.meta with which an action shapes its own response (then it is not a plain JSON answer). */
interface ResponseMeta {
	$statusCode?: number;
	$statusMessage?: string;
	$responseType?: string;
	$responseHeaders?: Record<string, unknown>;
	$location?: string;
}

interface CachingRequest extends IncomingMessage {
	[PENDING]?: PendingMiss;
	$ctx?: { meta: ResponseMeta };
}

interface RateLimit {
	limit: number;
	headers: boolean;
	key(req: IncomingMessage): string | null | undefined;
	store: { inc(key: string): Promise<number> | number; resetTime: number };
}

/** What of moleculer-web's route object a hit uses. */
interface GatewayRoute {
	path: string;
	cors?: object | null;
	rateLimit?: RateLimit;
}

/** The state and moleculer-web methods of the gateway service that the cache uses. */
export interface CachingGateway {
	broker: ServiceBroker;
	routes: GatewayRoute[];
	responseCache: ResponseCache | null;
	responseCacheCounts: ResponseCacheCounts;
	writeCorsHeaders(route: GatewayRoute, req: IncomingMessage, res: ServerResponse, isPreFlight: boolean): void;
	sendError(req: IncomingMessage, res: ServerResponse, err: Error): void;
	errorHandler(req: IncomingMessage, res: ServerResponse, err: Error): void;
	encodeResponse(req: IncomingMessage, res: ServerResponse, data: unknown): string;
}

interface ActionResponseSettings {
	responseType?: string;
	responseHeaders?: Record<string, unknown>;
}

type HttpHandler = (this: CachingGateway, req: IncomingMessage, res: ServerResponse, next?: unknown) => Promise<void>;
type SendResponse = (this: CachingGateway, req: IncomingMessage, res: ServerResponse, data: unknown, action?: unknown) => void;

const gateway = (ApiGateway as unknown as { methods: { httpHandler: HttpHandler; sendResponse: SendResponse } }).methods;
const { RateLimitExceeded } = ApiGateway.Errors;

/** The gateway's response cache for a configuration; null when GATEWAY_CACHE_TTL_MS is 0. */
export function createResponseCache(config: Config): ResponseCache | null {
	if (config.gatewayCacheTtlMs <= 0) return null;
	return new ResponseCache({ ttlMs: config.gatewayCacheTtlMs, maxEntries: config.gatewayCacheMaxEntries, maxBytes: config.gatewayCacheMaxBytes });
}

/**
 * Hits and misses of the response cache. A hit costs a few microseconds, so they are counted in plain numbers
 * and added to the /metrics counter (shopflow_gateway_cache_requests_total) when metrics are read.
 */
export class ResponseCacheCounts {
	hits = 0;
	misses = 0;

	/** Adds the hits and misses counted since the last flush to the broker's counter (if metrics are on). */
	flush(broker: ServiceBroker): void {
		const metric = broker.metrics.getMetric(METRICS.GATEWAY_CACHE);
		if (metric && this.hits > 0) broker.metrics.increment(METRICS.GATEWAY_CACHE, HIT_LABELS, this.hits);
		if (metric && this.misses > 0) broker.metrics.increment(METRICS.GATEWAY_CACHE, MISS_LABELS, this.misses);
		this.hits = 0;
		this.misses = 0;
	}
}

/** Methods of the gateway service: moleculer-web's own two, with the cache in front. */
export const cachedReadMethods = {
	/** moleculer-web's request handler; a fresh cached answer is sent first, without the request action. */
	async httpHandler(this: CachingGateway, req: CachingRequest, res: ServerResponse, next?: unknown): Promise<void> {
		const cache = this.responseCache;
		const key = cache === null ? null : cacheKey(req);
		if (cache !== null && key !== null) {
			const hit = cache.get(key);
			try {
				if (hit !== undefined && (await serveHit(this, req, res, hit))) return;
			} catch (err) {
				// As moleculer-web's handler does: the error is answered, never left to the HTTP server.
				this.errorHandler(req, res, err as Error);
				return;
			}
			req[PENDING] = { key, generation: cache.generation };
			this.responseCacheCounts.misses++;
		}
		return gateway.httpHandler.call(this, req, res, next);
	},

	/** moleculer-web's sendResponse; the plain JSON 200 answer of a cacheable request is stored, then sent as hits are. */
	sendResponse(this: CachingGateway, req: CachingRequest, res: ServerResponse, data: unknown, action?: ActionResponseSettings): void {
		const pending = req[PENDING];
		if (pending === undefined || this.responseCache === null || !isPlainJsonAnswer(req, res, data, action))
			return gateway.sendResponse.call(this, req, res, data, action);
		const body = Buffer.from(this.encodeResponse(req, res, data));
		sendCached(req, res, this.responseCache.set(pending.key, body, pending.generation), "MISS");
	},
};

/** Event handlers of the gateway service: every catalog change empties the cache. */
export const cachedReadEvents = {
	/** A product changed (price, details, rating, removal): drop every cached catalog answer. */
	[PRODUCTS_CHANGED_BROADCAST](this: CachingGateway): void {
		this.responseCache?.clear();
	},
	/** A search node's read model changed: drop every cached catalog answer. */
	[SEARCH_CHANGED_BROADCAST](this: CachingGateway): void {
		this.responseCache?.clear();
	},
};

/**
 * Sends a cached answer with the route's CORS headers and rate limit (429 when over it); false when the request
 * must go the normal way instead (a refused origin, or no such route).
 */
async function serveHit(gw: CachingGateway, req: CachingRequest, res: ServerResponse, entry: CachedResponse): Promise<boolean> {
	const route = gw.routes.find(r => r.path === CACHED_ROUTE_PATH);
	if (route === undefined) return false;
	if (route.cors) {
		try {
			gw.writeCorsHeaders(route, req, res, true);
		} catch {
			return false;
		}
	}
	// As for every request: a trace id of the gateway's own; X-Request-ID echoes the client's (bounded) id once.
	const traceId = gw.broker.generateUid();
	res.setHeader("X-Request-ID", correlationId(req) ?? traceId);
	res.setHeader("X-Trace-Id", traceId);
	if (route.rateLimit && (await overRateLimit(route.rateLimit, req, res))) {
		gw.sendError(req, res, new RateLimitExceeded("RATE_LIMITED"));
		return true;
	}
	sendCached(req, res, entry, "HIT");
	gw.responseCacheCounts.hits++;
	return true;
}

/** Counts the request as moleculer-web's rate limiter does (same store, key and headers); true when over. */
async function overRateLimit(rl: RateLimit, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
	const key = rl.key(req);
	if (!key) return false;
	const remaining = rl.limit - (await rl.store.inc(key));
	if (rl.headers) {
		res.setHeader("X-Rate-Limit-Limit", rl.limit);
		res.setHeader("X-Rate-Limit-Remaining", Math.max(0, remaining));
		res.setHeader("X-Rate-Limit-Reset", rl.store.resetTime);
	}
	return remaining < 0;
}

/** Whether an answer is a JSON object sent with status 200 and nothing the action set on the response. */
function isPlainJsonAnswer(req: CachingRequest, res: ServerResponse, data: unknown, action?: ActionResponseSettings): boolean {
	if (res.headersSent || res.statusCode !== 200) return false;
	const meta = req.$ctx?.meta;
	if (meta && ((meta.$statusCode ?? 200) !== 200 || meta.$statusMessage || meta.$responseType || meta.$responseHeaders || meta.$location)) return false;
	if (action?.responseType || action?.responseHeaders) return false;
	if (data === null || typeof data !== "object" || Buffer.isBuffer(data)) return false;
	const d = data as { pipe?: unknown; type?: unknown };
	return typeof d.pipe !== "function" && d.type !== "Buffer";
}

/** Sends a cached answer: 304 when the client holds it already (If-None-Match), the JSON body otherwise. */
function sendCached(req: IncomingMessage, res: ServerResponse, entry: CachedResponse, state: "HIT" | "MISS"): void {
	res.setHeader("ETag", entry.etag);
	res.setHeader("X-Cache", state);
	if (notModified(req.headers, entry.etag)) {
		res.statusCode = 304;
		res.end();
		return;
	}
	res.statusCode = 200;
	res.setHeader("Content-Type", JSON_TYPE);
	res.setHeader("Content-Length", entry.body.length);
	res.end(entry.body);
}
