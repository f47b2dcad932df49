/**
 * The broker middlewares of ShopFlow, one per file in this folder, listed here in order, followed by Moleculer's own
 * (the broker runs with `internalMiddlewares: false`, see moleculer-internals.ts). Moleculer wraps handlers with the
 * first middleware innermost. So, from the handler outwards: the behavior (fault injection) runs just before the
 * handler (an injected error is seen by the retry policy and the breaker; each retried attempt is a new call), the
 * retry guard stops a failure from being retried again by every caller up the chain, an audited write (an action with `audit`) stores its audit intent before it runs and its
 * entry after it succeeded (audit.ts), the call-chain record and the
 * OpenTelemetry span include the injected delay, and the business metrics count published domain events and breaker
 * changes, and the deadline refuses a request that arrived after its caller gave up (and counts the time it spent on
 * the way against its timeout) before any of ours records or runs it. Then Moleculer's middlewares (validator, cacher, bulkhead, circuit breaker, timeout, retry, ...), with the
 * request metrics (request-metrics.ts) in the place of Moleculer's Metrics middleware.
 */
import type { Middleware } from "moleculer";
import type { Config } from "../env";
import { ServiceConfigMiddleware } from "./service-config";
import { BehaviorMiddleware } from "./behavior";
import { RetryGuardMiddleware } from "./retry-guard";
import { AuditMiddleware } from "./audit";
import { CallChainMiddleware } from "./call-chain";
import { OpenTelemetryMiddleware } from "./otel";
import { BusinessMetricsMiddleware } from "./business-metrics";
import { RequestMetricsMiddleware } from "./request-metrics";
import { DeadlineMiddleware } from "./deadline";
import { NodeRestartMiddleware } from "./node-restart";
import { byFactory, moleculerMiddlewares, type MiddlewareEntry } from "./moleculer-internals";

/**
 * The middleware list for a configuration (a string names one of Moleculer's built-in middlewares), for a broker
 * created with `internalMiddlewares: false`. `extra` (tests) go after ShopFlow's, inside Moleculer's.
 */
export function brokerMiddlewares(config: Config, extra: Middleware[] = []): MiddlewareEntry[] {
	const ours: MiddlewareEntry[] = [
		// Wraps no handler: gives every service the broker's configuration (settings.$config) as it is created.
		ServiceConfigMiddleware(config),
		// Wraps no handler: rejects the calls waiting for a node that restarted under the same id.
		NodeRestartMiddleware(),
		BehaviorMiddleware(),
		RetryGuardMiddleware(),
		// Audited writes (actions with `audit`): an intent before, a hash-chained entry after (audit.ts).
		AuditMiddleware(config),
		CallChainMiddleware(),
		OpenTelemetryMiddleware(),
		BusinessMetricsMiddleware(),
		DeadlineMiddleware(),
	];
	return [...ours, ...extra, ...moleculerMiddlewares({ Metrics: byFactory(RequestMetricsMiddleware) })];
}
