/**
 * A saga step's call with the broker's retry policy run here, one try at a time. Moleculer's own retries report
 * only the last error: a reservation whose answer was lost, retried into "no endpoint" while its node restarted,
 * looked as if it had never reached inventory and was never undone (its stock stayed reserved). Here every try is
 * seen, and an error that says "never reached" after a try that may have reached is marked `reached_before`.
 */
import type { CallingOptions, ServiceBroker } from "moleculer";
import { resilience } from "../../config/resilience";
import { UNREACHED_TYPES } from "./engine";

const wasUnreached = (err: unknown): boolean => UNREACHED_TYPES.has(String((err as { type?: unknown } | null)?.type ?? ""));

/** broker.call under the broker's retry policy, remembering whether a failed try may have reached its target. */
export async function callTracked(broker: ServiceBroker, action: string, params: unknown, opts: CallingOptions = {}): Promise<unknown> {
	const policy = resilience.retryPolicy;
	let reachedBefore = false;
	for (let attempt = 1; ; attempt++) {
		try {
			return await broker.call(action, params, { ...opts, retries: 0 });
		} catch (err) {
			if (attempt > policy.retries || !policy.check(err)) {
				if (reachedBefore && wasUnreached(err) && err && typeof err === "object") Object.assign(err, { reached_before: true });
				throw err;
			}
			if (!wasUnreached(err)) reachedBefore = true;
			await new Promise(r => setTimeout(r, Math.min(policy.maxDelay, policy.delay * Math.pow(policy.factor, attempt - 1))));
		}
	}
}
