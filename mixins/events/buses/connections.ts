/**
 * One bus per broker, shared by the broker's services: a single JetStream connection per node, closed when the
 * last service that uses it stops. Embedded mode shares the in-process queue of the namespace.
 */
import type { ServiceBroker } from "moleculer";
import { connect, type ConnectionOptions } from "nats";
import { natsConnectOptions } from "../../../config/nats-options";
import type { Config } from "../../../config/env";
import type { EventBus } from "./bus";
import { JetStreamBus } from "./jetstream-bus";
import { openMemoryBus } from "./memory-bus";

interface Shared {
	bus: Promise<EventBus>;
	refs: number;
}

const shared = new WeakMap<ServiceBroker, Shared>();

/** The broker's bus and a function that gives this holder's share back. */
export async function acquireBus(broker: ServiceBroker, config: Config): Promise<{ bus: EventBus; release(): Promise<void> }> {
	if (!config.natsUrl) {
		const bus = openMemoryBus(config.namespace);
		return { bus, release: () => bus.close() };
	}
	let entry = shared.get(broker);
	if (!entry) {
		const bus = JetStreamBus.open({
			url: config.natsUrl,
			connectOptions: natsConnectOptions(config.natsUrl, config),
			namespace: config.namespace,
			isTest: config.isTest,
			logger: broker.getLogger("events"),
		});
		entry = { bus, refs: 0 };
		shared.set(broker, entry);
		bus.catch(() => {
			if (shared.get(broker) === entry) shared.delete(broker);
		});
	}
	entry.refs++;
	const e = entry;
	let released = false;
	const bus = await e.bus;
	return {
		bus,
		release: async () => {
			if (released) return;
			released = true;
			if (--e.refs > 0) return;
			if (shared.get(broker) === e) shared.delete(broker);
			await bus.close();
		},
	};
}

/** A URL fit for a log line: the password (or token user) replaced by "***". */
export function redactUrl(url: string): string {
	try {
		const u = new URL(url);
		if (u.password) u.password = "***";
		else if (u.username && u.protocol.startsWith("nats")) u.username = "***";
		return u.toString().replace(/\/$/, "");
	} catch {
		return "(unparsable URL)";
	}
}

/** Why a connection attempt failed, in a few words (ECONNREFUSED, a timeout, an authorization error). */
export function connectFailure(err: unknown): string {
	const e = err as { code?: string; message?: string } | null;
	const code = e?.code && !/^\d+$/.test(e.code) ? e.code : "";
	const message = e?.message ?? String(err);
	return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Resolves once NATS at `url` accepts a connection, trying again until `timeoutMs` has passed; then rejects with one
 * line naming NATS_URL and the address (without its password), so a node with a wrong NATS_URL stops instead of
 * reconnecting forever without saying where to.
 */
export async function checkNatsReachable(url: string, timeoutMs: number, options?: ConnectionOptions): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	do {
		try {
			const nc = await connect({ ...(options ?? { servers: url }), name: "shopflow-start-check", reconnect: false, timeout: Math.max(100, Math.min(2000, deadline - Date.now())) });
			await nc.close();
			return;
		} catch (err) {
			last = err;
			// A refused login will not get better by waiting.
			if (/authori[sz]ation|authentication/i.test(connectFailure(err))) break;
		}
		await new Promise(r => setTimeout(r, Math.max(0, Math.min(250, deadline - Date.now()))));
	} while (Date.now() < deadline);
	throw new Error(`NATS_URL: cannot reach NATS at ${redactUrl(url)} (${connectFailure(last)}); gave up after ${timeoutMs} ms (CONNECT_TIMEOUT_MS)`);
}
