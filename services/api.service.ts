/**
 * The `api` service: moleculer-web gateway under /api/v1, with Bearer-JWT authentication through
 * `users.resolveToken`, role checks declared per action, per-client rate limits, health and metrics.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Context, ServiceSchema } from "moleculer";
import { Errors } from "moleculer";
import ApiGateway from "moleculer-web";
import type { Config } from "../config/env";
import { createKeyValueStore, type KeyValueStore } from "../mixins/kv/store";
import { findMetricsText } from "./common/metrics";
import { apiAliases } from "./api/routes";
import { rateLimitStoreFactory } from "./api/rate-limit-store";
import { checkReadiness, type Readiness } from "./api/health";
import { asDependencyError, asOutcomeUnknown, asRateLimitedError, bodyParserErrors, clientKey, correlationId, describeError, retryAfterSeconds } from "./api/http";
import { checkBodyShape } from "./api/body-shape";
import { checkBehaviorCaller, checkMetricsToken, corsSettings, writeSecurityHeaders } from "./api/security";
import { applyBehavior } from "./api/behavior";
import { deadLetterActions } from "../mixins/events/dead-letters";
import { traceActions } from "./api/traces";
import { apiDocsActions, apiDocsEvents } from "./api/api-docs";
import type { OpenApiDocument } from "./api/openapi/document";
import { webAssets } from "./api/web-assets";
import { opsActions, type OpsState } from "./api/ops-actions";
import { OpsFeed, sendEventStream, type CheckoutAnswer } from "./api/ops-feed";
import { answerCode } from "./api/ops-chaos-run";
import { cachedReadEvents, cachedReadMethods, createResponseCache, ResponseCacheCounts } from "./api/cached-reads";
import type { ResponseCache } from "./api/response-cache";
import type { AuthUser, ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { ForbiddenError, ShuttingDownError, UnauthorizedError } from "./common/errors";
import { HttpDrain, type DrainResult } from "./api/drain";
import { SettingsCacheMixin, type FlagName, type SettingsCacheVars } from "./settings/client";
import { checkFeature, FEATURE_RETRY_AFTER_SECONDS } from "./api/features";

interface GatewayRequest extends IncomingMessage {
	$action?: { name?: string; auth?: "required" | "optional" | false; roles?: string[]; feature?: FlagName };
	$ctx?: Context<unknown, ShopMeta>;
	$params?: Record<string, unknown>;
}

/** What the gateway adds to ctx.meta: the client's own request id and its address (password guesses are throttled by it). */
interface GatewayMeta extends ShopMeta {
	correlation_id?: string;
	client_address?: string;
}

/** The HTTP server's handler and the request action of moleculer-web, which the gateway wraps. */
type HttpHandler = (this: unknown, req: IncomingMessage, res: ServerResponse, next?: unknown) => Promise<void>;

interface ApiVars extends SettingsCacheVars, OpsState {
	kv: KeyValueStore;
	/** Anonymous catalog answers (null when GATEWAY_CACHE_TTL_MS=0); see api/cached-reads.ts. */
	responseCache: ResponseCache | null;
	responseCacheCounts: ResponseCacheCounts;
	/** The OpenAPI document (api/api-docs.ts), made on demand and dropped when services change. */
	apiDocument: Promise<OpenApiDocument> | null;
	/** The graceful stop's bookkeeping of the requests in progress (api/drain.ts). */
	httpDrain: HttpDrain;
	/** moleculer-web's HTTP server. */
	server?: Server;
}

type ApiThis = ServiceThis<ApiVars>;

/** The gateway schema for a configuration (port, limits and stores are read from it). */
export function createApiService(config: Config): ServiceSchema {
	const kv = createKeyValueStore(config.redisUrl, config.namespace);
	return defineService<ApiVars>({
		name: "api",
		// The settings cache answers whether a feature is on (api/features.ts).
		mixins: [ApiGateway, SettingsCacheMixin()],

		settings: {
			port: config.port,
			ip: "0.0.0.0",
			path: "",
			// The storefront at / and the console at /ops/, for requests no route took (api/web-assets.ts).
			assets: webAssets(config),
			// No CORS headers in production until CORS_ORIGINS names the origins (api/security.ts).
			cors: corsSettings(config),
			// Every request gets a trace id of the gateway's own; the client's X-Request-ID is kept apart as its correlation id.
			rootCallOptions(options: { requestID?: string; meta?: GatewayMeta }, req: IncomingMessage): void {
				delete options.requestID;
				options.meta = { correlation_id: correlationId(req) };
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
						"GET /api/openapi.json": "api.openapi",
						"GET /api/docs": "api.docs",
					},
					mappingPolicy: "restrict",
					/** With METRICS_TOKEN set, /metrics takes it as a Bearer token. */
					onBeforeCall(this: ApiThis, _ctx: Context, _route: unknown, req: GatewayRequest): void {
						if (req.$action?.name === "api.metrics") checkMetricsToken(req, config.metricsToken);
					},
				},
				{
					name: "v1",
					path: "/api/v1",
					authentication: true,
					authorization: true,
					mappingPolicy: "restrict",
					aliases: apiAliases,
					bodyParsers: {
						// Not strict: `null`, `"x"` or `3` are read, so checkBodyShape can say what is wrong with them.
						json: { strict: false, limit: config.bodyLimit },
						urlencoded: false,
					},
					// A body that cannot be read (bad gzip, bad charset) is the client's error, not a 500; one that is not
					// an object of fields, or carries `__proto__`, is refused before any action runs.
					use: [bodyParserErrors, checkBodyShape],
					rateLimit: {
						window: 60_000,
						limit: config.rateLimitPerMinute,
						headers: true,
						key: (req: IncomingMessage) => clientKey(req, config.trustProxy),
						StoreFactory: rateLimitStoreFactory(kv),
					},
					callOptions: {},
					/** Passes the headers and the client address that actions need. */
					onBeforeCall(this: ApiThis, ctx: Context<unknown, GatewayMeta>, _route: unknown, req: GatewayRequest): void {
						ctx.meta.headers = {
							"idempotency-key": header(req, "idempotency-key"),
							prefer: header(req, "prefer"),
							"x-behavior": header(req, "x-behavior"),
						};
						ctx.meta.client_address = clientKey(req, config.trustProxy);
						dropEmptyQueryValues(req);
						applyBehavior(ctx, req, config);
					},
				},
			],
		},

		actions: {
			// The gateway's request action is never retried as a whole: each call inside it has its own retry policy.
			rest: {
				retryPolicy: { enabled: false },
				/** moleculer-web's request action; the answer names the trace (X-Trace-Id) and the client's request id (X-Request-ID) once each. */
				handler(this: ApiThis, ctx: Context<{ res: ServerResponse }, GatewayMeta>): unknown {
					const result = gatewayActions.rest.handler.call(this, ctx);
					const res = ctx.params.res;
					if (!res.headersSent) {
						const traceId = ctx.requestID ?? ctx.id;
						res.setHeader("X-Trace-Id", traceId);
						res.setHeader("X-Request-ID", ctx.meta.correlation_id ?? traceId);
					}
					return result;
				},
			},

			...deadLetterActions,
			...traceActions(config),
			...apiDocsActions,
			...opsActions(config),

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

			/** Prometheus text exposition of this node's metrics (host details left out; METRICS_TOKEN guards it when set). */
			metrics: {
				handler(this: ApiThis, ctx: Context<unknown, ShopMeta>): string {
					ctx.meta.$responseHeaders = { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" };
					this.responseCacheCounts.flush(this.broker);
					const reporter = findMetricsText(this.broker.metrics);
					return reporter ? reporter.render() : "";
				},
			},
		},

		// Catalog changes empty the response cache; service changes, the API document.
		events: { ...cachedReadEvents, ...apiDocsEvents },

		methods: {
			/**
			 * moleculer-web's sendResponse, storing the answers of the response cache of anonymous catalog reads; a
			 * checkout's answer is also remembered for the operations console (api/ops-feed.ts).
			 */
			sendResponse(this: ApiThis, req: GatewayRequest, res: ServerResponse, data: unknown, action?: unknown): void {
				const name = req.$action?.name;
				if (name === "checkout.start" && data !== null && typeof data === "object")
					this.opsFeed.recordCheckout(req.$ctx?.meta.$statusCode ?? answerCode(data as CheckoutAnswer), data as CheckoutAnswer);
				if (name === "api.opsStream" && data instanceof Readable) return sendEventStream(res, data);
				return (cachedReadMethods.sendResponse as (this: unknown, ...args: unknown[]) => void).call(this, req, res, data, action);
			},

			/** Every request: security headers first, then the response cache and moleculer-web (api/cached-reads.ts). */
			httpHandler(this: ApiThis, req: IncomingMessage, res: ServerResponse, next?: unknown): Promise<void> {
				writeSecurityHeaders(req, res);
				if (!this.httpDrain.admit(res)) {
					res.setHeader("Retry-After", "1");
					gatewayMethods.sendError.call(this, req, res, new ShuttingDownError());
					return Promise.resolve();
				}
				return (cachedReadMethods.httpHandler as HttpHandler).call(this, req, res, next);
			},

			/**
			 * The gateway's part of a graceful stop (config/boot/shutdown.ts): stops listening, finishes the requests in
			 * progress and refuses the rest with 503 SHUTTING_DOWN (api/drain.ts).
			 */
			drainHttp(this: ApiThis, timeoutMs: number): Promise<DrainResult> {
				// The consoles' live streams never finish by themselves: they end first, and reconnect to another gateway.
				this.opsFeed.closeAll();
				return this.httpDrain.drain(this.server, timeoutMs);
			},

			/** Resolves a Bearer token to its user; no header means an anonymous caller. */
			async authenticate(this: ApiThis, ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest): Promise<AuthUser | null> {
				const auth = header(req, "authorization");
				if (!auth) return null;
				const m = /^Bearer\s+(\S+)$/i.exec(auth);
				if (!m) throw new UnauthorizedError("Authorization header must be 'Bearer <token>'", "INVALID_TOKEN");
				// No token of ours is that long: a 401 like any invalid token (not a validation error of resolveToken).
				if (m[1].length > MAX_TOKEN_LENGTH) throw new UnauthorizedError("Token is not valid", "INVALID_TOKEN");
				// Where only admins may inject faults, nobody's behavior applies before we know who is asking.
				const behavior = ctx.meta.behavior;
				if (behavior !== undefined && config.isProduction && !config.behaviorPublic) delete ctx.meta.behavior;
				try {
					return (await ctx.call("users.resolveToken", { token: m[1] })) as AuthUser;
				} finally {
					if (behavior !== undefined) ctx.meta.behavior = behavior;
				}
			},

			/** Enforces the `feature`, `auth` and `roles` an action declares, and who may inject faults in production. */
			authorize(this: ApiThis, ctx: Context<unknown, ShopMeta>, _route: unknown, req: GatewayRequest): void {
				const action = req.$action ?? {};
				checkFeature(action.feature, this.settingsCache);
				checkBehaviorCaller(ctx.meta.behavior !== undefined, ctx.meta.user, config);
				const needsUser = action.auth === "required" || (action.roles?.length ?? 0) > 0;
				if (!needsUser) return;
				const user = ctx.meta.user;
				if (!user) throw new UnauthorizedError();
				if (action.roles && action.roles.length > 0 && !action.roles.includes(user.role))
					throw new ForbiddenError(`This needs the ${action.roles.join(" or ")} role`);
			},

			/** Sends an error; a service that no node offers right now is a 503 (a dependency is down), not a 404; a 429 says when to retry. */
			sendError(req: IncomingMessage, res: ServerResponse, err: Error): void {
				let e = asDependencyError(asOutcomeUnknown(err, (req as GatewayRequest).$action?.name)) as Errors.MoleculerError;
				if (e.code === 429) {
					const retryAfter = retryAfterSeconds(e, res);
					if (!res.headersSent) res.setHeader("Retry-After", String(retryAfter));
					e = asRateLimitedError(e, retryAfter) as Errors.MoleculerError;
				}
				if (e.type === "CHECKOUT_OUTCOME_UNKNOWN" && !res.headersSent) res.setHeader("Retry-After", "1");
				if (e.type === "FEATURE_DISABLED" && !res.headersSent) res.setHeader("Retry-After", String(FEATURE_RETRY_AFTER_SECONDS));
				return gatewayMethods.sendError.call(this, req, res, e);
			},

			/** moleculer-web's error handling, except that a switched-off feature's 503 is an answer, not an error to log. */
			errorHandler(this: ApiThis, req: IncomingMessage, res: ServerResponse, err: Error): void {
				if ((err as Errors.MoleculerError).type === "FEATURE_DISABLED") return (this as unknown as { sendError: GatewayMethods["sendError"] }).sendError(req, res, err);
				return gatewayMethods.errorHandler.call(this, req, res, err);
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
			this.apiDocument = null;
			this.httpDrain = new HttpDrain();
			this.opsFeed = new OpsFeed(this.broker);
			this.chaosRuns = { current: null, finished: [] };
		},

		async stopped(this: ApiThis) {
			this.opsFeed.closeAll();
			this.chaosRuns.current?.abort();
			await this.kv.close();
		},
	});
}

interface GatewayMethods {
	sendError(req: IncomingMessage, res: ServerResponse, err: Error): void;
	errorHandler(req: IncomingMessage, res: ServerResponse, err: Error): void;
}
const gatewayMethods = (ApiGateway as unknown as { methods: GatewayMethods }).methods;
const gatewayActions = (ApiGateway as unknown as { actions: { rest: { handler(this: unknown, ctx: Context): unknown } } }).actions;

/** The longest Bearer token the gateway passes on (users.resolveToken's limit). */
const MAX_TOKEN_LENGTH = 4096;

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
