/**
 * A saga step's call with the broker's retry policy run here, one try at a time. Moleculer's own retries report
 * only the last error: a reservation whose answer was lost, retried into "no endpoint" while its node restarted,
 * looked as if it had never reached inventory and was never undone (its stock stayed reserved). Here every try is
 * seen, and an error that says "never reached" after a try that may have reached is marked `reached_before`. A call
 * that finds no node for its action at all is tried again for up to SAGA_NODE_WAIT_MS (a node restarting).
 */
import type { CallingOptions, ServiceBroker } from "moleculer";
import { resilience, SAGA_NODE_WAIT_MS } from "../../config/resilience";
import { UNREACHED_TYPES } from "./engine";

const typeOf = (err: unknown): string => String((err as { type?: unknown } | null)?.type ?? "");
const wasUnreached = (err: unknown): boolean => UNREACHED_TYPES.has(typeOf(err));
/** No node serves the action right now (it is restarting, or not started yet). */
const NO_NODE_TYPES: ReadonlySet<string> = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE"]);

/** broker.call under the broker's retry policy, remembering whether a failed try may have reached its target. */
export async function callTracked(
	broker: ServiceBroker,
	action: string,
	params: unknown,
	opts: CallingOptions = {},
	nodeWaitMs: number = SAGA_NODE_WAIT_MS,
): Promise<unknown> {
	const policy = resilience.retryPolicy;
	const waitUntil = Date.now() + nodeWaitMs;
	let reachedBefore = false;
	for (let attempt = 1; ; attempt++) {
		try {
			return await broker.call(action, params, { ...opts, retries: 0 });
		} catch (err) {
			// A call that found no node at all is tried again until a node comes back (a restart), for a while.
			const waitForNode = NO_NODE_TYPES.has(typeOf(err)) && Date.now() < waitUntil;
			if (!waitForNode && (attempt > policy.retries || !policy.check(err))) {
				if (reachedBefore && wasUnreached(err) && err && typeof err === "object") Object.assign(err, { reached_before: true });
				throw err;
			}
			if (!wasUnreached(err)) reachedBefore = true;
			await new Promise(r => setTimeout(r, Math.min(policy.maxDelay, policy.delay * Math.pow(policy.factor, attempt - 1))));
		}
	}
}
