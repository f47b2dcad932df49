/**
 * A saga step's call with the broker's retry policy run here, one try at a time. Moleculer's own retries report
 * only the last error: a reservation whose answer was lost, retried into "no endpoint" while its node restarted,
 * looked as if it had never reached inventory and was never undone (its stock stayed reserved). Here every try is
 * seen, and an error that says "never reached" after a try that may have reached is marked `reached_before`. A call
 * that finds no node offering its service at all is tried again for up to SAGA_NODE_WAIT_MS (a node restarting);
 * one refused by open circuits is not (they are there to fail fast).
 */
import type { CallingOptions, ServiceBroker } from "moleculer";
import { DEADLINE_HEADER, resilience, SAGA_NODE_WAIT_MS } from "../../config/resilience";
import { UNREACHED_TYPES } from "./engine";

const typeOf = (err: unknown): string => String((err as { type?: unknown } | null)?.type ?? "");
const wasUnreached = (err: unknown): boolean => UNREACHED_TYPES.has(typeOf(err));
const NO_ENDPOINT_TYPES: ReadonlySet<string> = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE"]);

/**
 * The call found no endpoint because no node offers the action's service at all (it is restarting, or not started
 * yet), rather than because every node's circuit is open: an open circuit must keep failing fast.
 */
function noNodeFor(broker: ServiceBroker, action: string, err: unknown): boolean {
	if (!NO_ENDPOINT_TYPES.has(typeOf(err))) return false;
	const service = action.slice(0, action.lastIndexOf("."));
	return !(broker.registry.getServiceList({ onlyAvailable: true }) as Array<{ name: string }>).some(s => s.name === service);
}

/** broker.call under the broker's retry policy, remembering whether a failed try may have reached its target. */
export async function callTracked(
	broker: ServiceBroker,
	action: string,
	params: unknown,
	opts: CallingOptions = {},
	nodeWaitMs: number = SAGA_NODE_WAIT_MS,
): Promise<unknown> {
	const policy = resilience.retryPolicy;
	// Within a request, at most half of what its caller has left: the step must still fail, be compensated and be
	// answered before the caller gives up (an answer lost at the deadline is a checkout whose outcome is unknown).
	const deadline = opts.parentCtx?.headers?.[DEADLINE_HEADER];
	const budget = typeof deadline === "number" ? Math.max(0, (deadline - Date.now()) / 2) : Number.POSITIVE_INFINITY;
	const waitUntil = Date.now() + Math.min(nodeWaitMs, budget);
	let reachedBefore = false;
	for (let attempt = 1; ; attempt++) {
		try {
			return await broker.call(action, params, { ...opts, retries: 0 });
		} catch (err) {
			// A call that found no node at all is tried again until a node comes back (a restart), for a while.
			const waitForNode = Date.now() < waitUntil && noNodeFor(broker, action, err);
			if (!waitForNode && (attempt > policy.retries || !policy.check(err))) {
				if (reachedBefore && wasUnreached(err) && err && typeof err === "object") Object.assign(err, { reached_before: true });
				throw err;
			}
			if (!wasUnreached(err)) reachedBefore = true;
			await new Promise(r => setTimeout(r, Math.min(policy.maxDelay, policy.delay * Math.pow(policy.factor, attempt - 1))));
		}
	}
}
