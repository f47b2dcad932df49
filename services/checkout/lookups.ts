/**
 * Finding the order a checkout placed under its key when orders.create's answer was lost.
 */
import type { Context } from "moleculer";
import type { OrderCreateResult } from "./model";

/** The longest a lost answer's order is looked for. */
const MAX_LOOKUP_WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export interface LookupOptions {
	userId: string;
	orderKey: string;
	/** orders.create was sent and its answer lost: wait for an orders node that is not there yet. */
	waitForOrders: boolean;
	/** What is left of the request's time. */
	remainingMs: number;
	/** The margin orders.create was given before the caller's deadline. */
	marginMs: number;
}

/**
 * The order placed under `orderKey`, or null when there is none or orders cannot tell before the caller gives up.
 * With `waitForOrders` (orders.create was sent and its answer lost: its node died, and may be starting again),
 * an orders node that is not there yet is waited for while the request has time left, so the customer gets the
 * order rather than "unknown"; without it (orders was down before anything was sent) the answer is at once.
 */
export async function orderByKey(ctx: Context, opts: LookupOptions): Promise<OrderCreateResult | null> {
	// orders.create had the time left less the margin: answer within that margin, before the caller's deadline.
	const deadline = Date.now() + Math.min(opts.remainingMs - opts.marginMs / 4, MAX_LOOKUP_WAIT_MS);
	for (;;) {
		const timeout = Math.min(deadline - Date.now(), opts.marginMs);
		if (timeout < 100) return null;
		try {
			return await ctx.call<OrderCreateResult | null, Record<string, unknown>>("orders.byKey", { idempotency_key: opts.orderKey, user_id: opts.userId }, { timeout, retries: 0 });
		} catch (err) {
			// Only "no orders node to ask (yet)" is worth waiting for; any other failure leaves the outcome unknown.
			const type = (err as { type?: string } | null)?.type;
			if (!opts.waitForOrders || (type !== "SERVICE_NOT_AVAILABLE" && type !== "SERVICE_NOT_FOUND")) return null;
			await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
		}
	}
}
