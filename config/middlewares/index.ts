/**
 * The broker middlewares of ShopFlow, one per file in this folder, listed here in order. Moleculer wraps handlers
 * with the first middleware innermost, and its own middlewares (validator, circuit breaker, timeout, retry,
 * metrics, ...) outside all of these. So, from the handler outwards: the behavior (fault injection) runs just
 * before the handler (an injected error is seen by the retry policy and the breaker; each retried attempt is a new
 * call), the retry guard stops a failure from being retried again by every caller up the chain, the call-chain
 * record and the OpenTelemetry span include the injected delay, and the business metrics observe emitted events
 * and breaker changes. The request metrics (request-metrics.ts) are not in this list: they take the place of
 * Moleculer's own Metrics hooks among its internal middlewares (installed by config/boot/broker.ts).
 */
import type { Middleware } from "moleculer";
import type { Config } from "../env";
import { BehaviorMiddleware } from "./behavior";
import { RetryGuardMiddleware } from "./retry-guard";
import { CallChainMiddleware } from "./call-chain";
import { OpenTelemetryMiddleware } from "./otel";
import { BusinessMetricsMiddleware } from "./business-metrics";

/** The middleware list for a configuration. */
export function brokerMiddlewares(_config: Config): Middleware[] {
	return [
		BehaviorMiddleware(),
		RetryGuardMiddleware(),
		CallChainMiddleware(),
		OpenTelemetryMiddleware(),
		BusinessMetricsMiddleware(),
	];
}
