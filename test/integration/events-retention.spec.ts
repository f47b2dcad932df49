/**
 * Retention of the event layer on real brokers (in-process bus; memory store and NeDB files): sent outbox rows
 * go after EVENTS_OUTBOX_RETENTION_MS while pending ones stay, a duplicate inside the dedupe window is still
 * skipped, processed ids older than the window go, and the pruning timers stop with the broker.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin";
import { EventsRetention } from "../../mixins/events/retention";
import type { EventsRuntime } from "../../mixins/events/runtime";
import type { EventBus } from "../../mixins/events/buses/bus";
import type { EventMessage } from "../../mixins/events/policy";
import { EVENTS, type DomainEvent } from "../../services/common/events";
import { testConfig } from "../helpers/shop";
import { payloadOf } from "../helpers/events";

const seen: string[] = [];

const ledger: ServiceSchema = { name: "ledger", mixins: [EventsMixin()] };
const audit: ServiceSchema = {
	name: "audit",
	mixins: [EventsMixin({ handlers: { [EVENTS.ORDER_CREATED]: async (e: DomainEvent) => void seen.push(e.event_id) } })],
};

type WithEvents = EventsMethods & { $events: EventsRuntime };
const svc = (broker: ServiceBroker, name: string): WithEvents => broker.getLocalService(name) as unknown as WithEvents;

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not reached in time");
		await new Promise(r => setTimeout(r, 20));
	}
}

function duplicateOf(ev: DomainEvent<object>): EventMessage {
	return { event_id: ev.event_id, name: EVENTS.ORDER_CREATED, source: "ledger", event: ev, meta: {}, created_at: ev.occurred_at } as unknown as EventMessage;
}

describe.each([
	["a memory store", false],
	["NeDB files", true],
])("event retention on %s", (_name, files) => {
	let broker: ServiceBroker;
	let stopped = false;
	let dir = "";

	beforeEach(async () => {
		seen.length = 0;
		dir = files ? fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-retention-")) : "";
		const env = {
			NAMESPACE: `t-ret-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
			EVENTS_OUTBOX_RETENTION_MS: "50",
			EVENTS_PRUNE_INTERVAL_MS: "20",
			...(files ? { DATA_DIR: dir } : {}),
		};
		const config = testConfig(env);
		broker = createShopBroker({ config, services: [] });
		broker.createService(ledger);
		broker.createService(audit);
		await broker.start();
		stopped = false;
	});
	afterEach(async () => {
		if (!stopped) await broker.stop();
		if (dir) fs.rmSync(dir, { recursive: true, force: true });
	});

	it("removes sent outbox rows after the retention and keeps a pending one until it is sent", async () => {
		const events = svc(broker, "ledger").$events;
		for (let i = 0; i < 5; i++) await svc(broker, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: `o${i}` }));
		await until(() => seen.length === 5);
		await until(async () => (await events.store.outbox.count()) === 0);

		const bus = events.activeBus as EventBus;
		const publishToBus = bus.publish.bind(bus);
		bus.publish = async () => {
			throw new Error("bus unreachable");
		};
		await svc(broker, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o-pending" }));
		await new Promise(r => setTimeout(r, 300));
		expect(await events.store.outbox.count()).toBe(1);
		expect((await events.stats()).pending_outbox).toBe(1);
		bus.publish = publishToBus;
		await until(() => seen.length === 6, 6000);
		await until(async () => (await events.store.outbox.count()) === 0);
	});

	it("still skips a duplicate delivered inside the dedupe window after its outbox row is gone", async () => {
		const ev = await svc(broker, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o-dup" }));
		await until(() => seen.length === 1);
		await until(async () => (await svc(broker, "ledger").$events.store.outbox.count()) === 0);
		const bus = svc(broker, "ledger").$events.activeBus as EventBus;
		const runtime = svc(broker, "ledger").$events;
		await bus.publish(runtime.seal(duplicateOf(ev)), { dedupe: false });
		await bus.publish(runtime.seal(duplicateOf(ev)), { dedupe: false });
		await new Promise(r => setTimeout(r, 300));
		expect(seen).toEqual([ev.event_id]);
		expect(await svc(broker, "audit").$events.store.processedCount()).toBe(1);
	});

	it("forgets processed ids once they are older than the dedupe window", async () => {
		const events = svc(broker, "audit").$events;
		await svc(broker, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o-old" }));
		await until(() => seen.length === 1);
		const { retention } = testConfig({});
		const logger = broker.getLogger("test");
		expect(await new EventsRetention(events.store, retention, logger, () => Date.now() + retention.dedupeWindowMs - 1000).runOnce()).toMatchObject({ processed: 0 });
		expect(await events.store.processedCount()).toBe(1);
		expect(await new EventsRetention(events.store, retention, logger, () => Date.now() + retention.dedupeWindowMs + 1).runOnce()).toMatchObject({ processed: 1 });
		expect(await events.store.processedCount()).toBe(0);
	});

	it("stops the pruning timers with the broker", async () => {
		const runtimes = ["ledger", "audit"].map(name => svc(broker, name).$events);
		expect(runtimes.every(r => r.retention.active)).toBe(true);
		await broker.stop();
		stopped = true;
		expect(runtimes.some(r => r.retention.active)).toBe(false);
	});
});
