/**
 * The broker middlewares of ShopFlow. Moleculer wraps handlers with the first middleware innermost, and its own
 * middlewares (validator, circuit breaker, timeout, retry, metrics, ...) outside all of these. So, from the
 * handler outwards: fault injection runs just before the handler (an injected error is seen by the retry policy
 * and the breaker; each retried attempt is a new call), the retry guard stops a failure from being retried again
 * by every caller up the chain, the call-chain record and the OpenTelemetry span include the injected delay, and
 * the business metrics observe emitted events and breaker changes. The request metrics take the place of
 * Moleculer's own among its middlewares (config/middlewares/request-metrics.ts, installed in broker.ts).
 */
import type { Context, Middleware } from "moleculer";
import type { Config } from "../env";
import { FaultInjectionMiddleware } from "./behavior";
import { CallChainMiddleware } from "./call-chain";
import { OpenTelemetryMiddleware } from "./otel";
import { BusinessMetricsMiddleware } from "./business-metrics";

interface PropagatedError {
	retryable?: boolean;
	/** Set by Moleculer's error handler to the context of the call that failed. */
	ctx?: unknown;
}

/**
 * A failure is retried by the caller nearest to it, and only there: when an error that a nested call already
 * went through its retries with escapes a handler, it is no longer retryable, so that callers further up (and the
 * gateway's own request action) do not retry the whole chain again (4 tries per level would multiply: 4, 16, 64).
 */
export function RetryGuardMiddleware(): Middleware {
	return {
		name: "RetryGuard",
		localAction(next: (ctx: Context) => Promise<unknown>) {
			return function retryGuard(ctx: Context): Promise<unknown> {
				return next(ctx).catch((err: PropagatedError) => {
					if (err && err.retryable === true && err.ctx !== undefined && err.ctx !== ctx) err.retryable = false;
					throw err;
				});
			};
		},
	} as unknown as Middleware;
}

/** The middleware list for a configuration. */
export function brokerMiddlewares(_config: Config): Middleware[] {
	return [
		FaultInjectionMiddleware(),
		RetryGuardMiddleware(),
		CallChainMiddleware(),
		OpenTelemetryMiddleware(),
		BusinessMetricsMiddleware(),
	];
}
