/**
 * The deadline: the time a request spent on the way counts against its timeout.
 */
import { Errors, type Context, type Middleware } from "moleculer";
import { DEADLINE_HEADER } from "../resilience";

export { DEADLINE_HEADER };

/**
 * Moleculer sends a request with the time it has left and starts that clock again when the request arrives, so a
 * request held on the way (a NATS outage keeps it in the client's buffer, a slow link, a busy node) would start with
 * its whole time, after its caller may have given up: a checkout placed for a customer already answered "unknown",
 * an orders.create for a checkout that already answered. The caller's node writes the wall-clock deadline in the
 * request's headers as it sends it; the receiving node refuses a request whose deadline has passed (it runs
 * nothing) and shortens the timeout of one that arrives late, so the action's own "time left" checks see the truth.
 * Nodes' clocks are assumed to agree within a few milliseconds (NTP); a skew shortens or lengthens the allowance by
 * as much.
 */
export function DeadlineMiddleware(): Middleware {
	return {
		name: "Deadline",
		remoteAction(next: (ctx: Context) => Promise<unknown>) {
			return function sendDeadline(ctx: Context): Promise<unknown> {
				const timeout = ctx.options.timeout ?? 0;
				if (timeout > 0) ctx.headers = { ...ctx.headers, [DEADLINE_HEADER]: Date.now() + timeout };
				return next(ctx);
			};
		},
		localAction(next: (ctx: Context) => Promise<unknown>, action: { name: string }) {
			return function keepDeadline(ctx: Context): Promise<unknown> {
				const deadline = ctx.headers?.[DEADLINE_HEADER];
				if (typeof deadline === "number") {
					const left = deadline - Date.now();
					if (left <= 0) return Promise.reject(new Errors.RequestSkippedError({ action: action.name, nodeID: ctx.nodeID ?? "" }));
					// Moleculer's timeout started when the request arrived (ctx.startHrTime): keep that origin.
					const since = ctx.startHrTime ? elapsedMs(ctx.startHrTime) : 0;
					const timeout = ctx.options.timeout ?? 0;
					if (!(timeout > 0) || left + since < timeout) ctx.options.timeout = left + since;
				}
				return next(ctx);
			};
		},
	} as unknown as Middleware;
}

function elapsedMs(start: [number, number]): number {
	const [s, ns] = process.hrtime(start);
	return s * 1000 + ns / 1e6;
}
