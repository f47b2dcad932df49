/**
 * One bus per broker, shared by the broker's services: a single JetStream connection per node, closed when the
 * last service that uses it stops. Embedded mode shares the in-process queue of the namespace.
 */
import type { ServiceBroker } from "moleculer";
import type { Config } from "../env";
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
