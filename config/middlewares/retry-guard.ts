/**
 * The retry guard: a failure is retried by the caller nearest to it, and only there.
 */
import type { Context, Middleware } from "moleculer";

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
