/**
 * The graceful stop of a node (SIGTERM, SIGINT), in the order that loses nothing:
 * 1. the gateway (when this node runs it) stops listening, finishes the requests it took and refuses the rest with
 *    503 SHUTTING_DOWN and `Connection: close` (services/api/drain.ts), while every service behind it still runs;
 * 2. the services that start work on others stop before the services they call: checkout (its calls in progress
 *    finish), then orders, whose sagas stop at the end of their current step and give their leases up, so that
 *    another node, or this one at its next start, resumes them from their log;
 * 3. `broker.stop()` stops the rest: each service's calls in progress finish (Moleculer's context tracking), the
 *    event relays wait for what their consumers took and leave the rest in the outbox for the next start, the
 *    stores close, and the node leaves the cluster.
 * Moleculer stops every service at once: a step of a saga or a request through the gateway then met a service that
 * had closed its store (500) or left (503). The whole stop is bounded by SHUTDOWN_TIMEOUT_MS (start.ts exits 1
 * when it is over); each wait above gets a share of it.
 */
import type { Service, ServiceBroker } from "moleculer";
import type { Config } from "../env";

/** Services stopped one by one, in this order, before the others (which stop together). */
export const STOP_FIRST = ["checkout", "orders"] as const;

/** The share of SHUTDOWN_TIMEOUT_MS the gateway may spend on the requests in progress. */
const DRAIN_SHARE = 0.4;

interface Gateway {
	drainHttp(timeoutMs: number): Promise<{ unfinished: number; refused: number; ms: number }>;
}

/** How long Moleculer waits for the calls in progress of one service when it stops (its `tracking.shutdownTimeout`). */
export function serviceStopTimeoutMs(config: Config): number {
	return Math.max(1000, Math.floor(config.shutdownTimeoutMs / 4));
}

/** Stops the node gracefully; resolves when the broker has stopped. */
export async function stopGracefully(broker: ServiceBroker, config: Config): Promise<void> {
	const started = Date.now();
	const api = broker.getLocalService("api") as unknown as (Service & Partial<Gateway>) | undefined;
	if (api?.drainHttp) {
		const r = await api.drainHttp(Math.floor(config.shutdownTimeoutMs * DRAIN_SHARE));
		broker.logger.info(`gateway drained in ${r.ms} ms: ${r.refused} request(s) refused, ${r.unfinished} unfinished`);
	}
	for (const name of STOP_FIRST) {
		const svc = broker.getLocalService(name);
		if (svc) await broker.destroyService(svc);
	}
	broker.logger.info(`stopping the other services (${Date.now() - started} ms into the stop)`);
	await broker.stop();
}
