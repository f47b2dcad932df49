/**
 * Readiness of a node as the gateway sees it: transporter, the storage of every service it can reach, Redis.
 */
import type { ServiceBroker } from "moleculer";
import type { Config } from "../../config/env";
import type { KeyValueStore } from "../../mixins/kv/store";

export interface Readiness {
	status: "ok" | "unavailable";
	checks: {
		broker: "started" | "starting";
		transporter: "ok" | "down" | "none";
		storage: Record<string, "ok" | "down">;
		redis: "ok" | "down" | "none";
	};
}

interface ServiceInfo {
	name: string;
	actions?: Record<string, unknown>;
}

/** Runs every check with a short timeout each; one failing check makes the node not ready. */
export async function checkReadiness(broker: ServiceBroker, config: Config, kv: KeyValueStore): Promise<Readiness> {
	const transporter = !config.natsUrl ? "none" : broker.transit?.connected ? "ok" : "down";

	const services = broker.registry.getServiceList({ onlyAvailable: true, withActions: true }) as ServiceInfo[];
	const withStorage = [...new Set(services.filter(s => s.actions?.[`${s.name}.storageHealth`]).map(s => s.name))];
	const storage: Record<string, "ok" | "down"> = {};
	await Promise.all(
		withStorage.map(async name => {
			try {
				const res = (await broker.call(`${name}.storageHealth`, {}, { timeout: 2000, retries: 0 })) as { ok: boolean };
				storage[name] = res.ok ? "ok" : "down";
			} catch {
				storage[name] = "down";
			}
		}),
	);

	const redis = !config.redisUrl ? "none" : (await Promise.race([kv.ping(), delay(2000, false)])) ? "ok" : "down";

	// Until every service of this node has started, the node is not ready (the gateway may listen before).
	const lifecycle = broker.started ? "started" : "starting";
	const ok = lifecycle === "started" && transporter !== "down" && redis !== "down" && Object.values(storage).every(s => s === "ok");
	return { status: ok ? "ok" : "unavailable", checks: { broker: lifecycle, transporter, storage, redis } };
}

function delay<T>(ms: number, value: T): Promise<T> {
	return new Promise(resolve => setTimeout(resolve, ms, value).unref());
}
