/**
 * The `api` service: moleculer-web gateway under /api/v1, with Bearer-JWT authentication through
 * `users.resolveToken`, role checks declared per action, per-client rate limits, health and metrics.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, ServiceSchema } from "moleculer";
import { Errors } from "moleculer";
import ApiGateway from "moleculer-web";
import { getConfig, type Config } from "../config/env";
import { createKeyValueStore, type KeyValueStore } from "../config/kv";
import { findPrometheusReporter } from "../config/metrics";
import { apiAliases } from "./api/routes";
import { rateLimitStoreFactory } from "./api/rate-limit-store";
import { checkReadiness, type Readiness } from "./api/health";
import { asDependencyError, asEncodingError, clientKey, describeError } from "./api/http";
import { applyBehavior } from "./api/behavior";
import { deadLetterActions } from "./api/dead-letters";
import { traceActions } from "./api/traces";
import { cachedReadEvents, cachedReadMethods, createResponseCache, ResponseCacheCounts } from "./api/cached-reads";
import type { ResponseCache } from "./api/response-cache";
import type { AuthUser, ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { ForbiddenError, UnauthorizedError } from "./common/errors";

interface GatewayRequest extends IncomingMessage {
	$action?: { name?: string; auth?: "required" | "optional" | false; roles?: string[] };
	$ctx?: Context<unknown, ShopMeta>;
	$params?: Record<string, unknown>;
}

interface ApiVars {
	kv: KeyValueStore;
	/** Anonymous catalog answers (null when GATEWAY_CACHE_TTL_MS=0); see api/cached-reads.ts. */
	responseCache: ResponseCache | null;
	responseCacheCounts: ResponseCacheCounts;
}

type ApiThis = ServiceThis<ApiVars>;

/** The gateway schema for a configuration (port, limits and stores are read from it). */
export function createApiService(config: Config = getConfig()): ServiceSchema {
	const kv = createKeyValueStore(config.redisUrl, config.namespace);
	return defineService<ApiVars>({
		name: "api",
		mixins: [ApiGateway],

		settings: {
			port: config.port,
			ip: "0.0.0.0",
			path: "",
			cors: {
				origin: config.corsOrigins,
				methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
				allowedHeaders: ["Content-Type", "Authorization", "Idempotency-Key", "Prefer", "X-Behavior"],
				exposedHeaders: ["X-Trace-Id", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"],
				maxAge: 3600,
			},
			// Request bodies and parameters can hold passwords: never log them.
			logRequest: "debug",
			logResponse: "debug",
			logRequestParams: null,
			logResponseData: null,
			routes: [
				{
					name: "ops",
					path: "/",
					authentication: false,
					authorization: false,
					bodyParsers: false,
					aliases: {
						"GET /health/live": "api.live",
						"GET /health/ready": "api.ready",
						"GET /metrics": "api.metrics",
					},
					mappingPolicy: "restrict",
				},
				{
					name: "v1",
					path: "/api/v1",
					authentication: true,
					authorization: true,
					mappingPolicy: "restrict",
					aliases: apiAliases,
					bodyParsers: {
						json: { strict: true, limit: config.bodyLimit },
						urlencoded: false,
					},
					rateLimit: {
						window: 60_000,
						limit: config.rateLimitPerMinute,
						headers: true,
						key: (req: IncomingMessage) => clientKey(req, config.trustProxy),
						StoreFactory: rateLimitStoreFactory(kv),
					},
					callOptions: {},
					/** Passes the headers that actions need and exposes the trace id. */
					onBeforeCall(this: ApiThis, ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest, res: ServerResponse): void {
						ctx.meta.headers = {
							"idempotency-key": header(req, "idempotency-key"),
							prefer: header(req, "prefer"),
							"x-behavior": header(req, "x-behavior"),
						};
						res.setHeader("X-Trace-Id", ctx.requestID ?? ctx.id);
						dropEmptyQueryValues(req);
						applyBehavior(ctx, req, config);
					},
				},
			],
		},

		actions: {
			// The gateway's request action is never retried as a whole: each call inside it has its own retry policy.
			rest: { retryPolicy: { enabled: false } },

			...deadLetterActions,
			...traceActions(config),

			/** Liveness: the process answers. */
			live: {
				handler(): { status: string } {
					return { status: "ok" };
				},
			},

			/** Readiness: transporter, storage of every reachable service and Redis answer. */
			ready: {
				async handler(this: ApiThis, ctx: Context<unknown, ShopMeta>): Promise<Readiness> {
					const result = await checkReadiness(this.broker, config, this.kv);
					if (result.status !== "ok") ctx.meta.$statusCode = 503;
					return result;
				},
			},

			/** Prometheus text exposition of this node's metrics. */
			metrics: {
				handler(this: ApiThis, ctx: Context<unknown, ShopMeta>): string {
					ctx.meta.$responseHeaders = { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" };
					this.responseCacheCounts.flush(this.broker);
					const reporter = findPrometheusReporter(this.broker.metrics);
					return reporter ? reporter.render() : "";
				},
			},
		},

		// Catalog changes empty the response cache.
		events: cachedReadEvents,

		methods: {
			// httpHandler and sendResponse: moleculer-web's, with the response cache of anonymous catalog reads in front.
			...cachedReadMethods,

			/** Resolves a Bearer token to its user; no header means an anonymous caller. */
			async authenticate(this: ApiThis, ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest): Promise<AuthUser | null> {
				const auth = header(req, "authorization");
				if (!auth) return null;
				const m = /^Bearer\s+(\S+)$/i.exec(auth);
				if (!m) throw new UnauthorizedError("Authorization header must be 'Bearer <token>'", "INVALID_TOKEN");
				return (await ctx.call("users.resolveToken", { token: m[1] })) as AuthUser;
			},

			/** Enforces the `auth` and `roles` an action declares. */
			authorize(this: ApiThis, ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest): void {
				const action = req.$action ?? {};
				const needsUser = action.auth === "required" || (action.roles?.length ?? 0) > 0;
				if (!needsUser) return;
				const user = ctx.meta.user;
				if (!user) throw new UnauthorizedError();
				if (action.roles && action.roles.length > 0 && !action.roles.includes(user.role))
					throw new ForbiddenError(`This needs the ${action.roles.join(" or ")} role`);
			},

			/** Sends an error; a service that no node offers right now is a 503 (a dependency is down), not a 404. */
			sendError(req: IncomingMessage, res: ServerResponse, err: Error): void {
				return gatewayMethods.sendError.call(this, req, res, asDependencyError(asEncodingError(err)));
			},

			/** moleculer-web's error shape, with validation messages that name the field and no internals on 5xx. */
			reformatError(err: Errors.MoleculerError): Record<string, unknown> {
				return describeError(err, config.isProduction);
			},
		},

		created(this: ApiThis) {
			this.kv = kv;
			this.responseCache = createResponseCache(config);
			this.responseCacheCounts = new ResponseCacheCounts();
		},

		async stopped(this: ApiThis) {
			await this.kv.close();
		},
	});
}

const gatewayMethods = (ApiGateway as unknown as { methods: { sendError(req: IncomingMessage, res: ServerResponse, err: Error): void } }).methods;

/** `?category=&page=` means "not given": empty query values are dropped before the action validates them. */
function dropEmptyQueryValues(req: GatewayRequest): void {
	const params = req.$params;
	if (req.method !== "GET" || !params) return;
	for (const [key, value] of Object.entries(params)) if (value === "") delete params[key];
}

function header(req: IncomingMessage, name: string): string | undefined {
	const v = req.headers[name];
	return Array.isArray(v) ? v[0] : v;
}

export default createApiService;
