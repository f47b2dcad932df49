/**
 * Durable domain events at broker level, in embedded mode (in-process queue) and over the real NATS JetStream:
 * group delivery, node fanout, retries, dead letters and redrive, duplicates, and the outbox across a crash.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import { parseBehavior } from "../../services/common/behavior";
import { createShopBroker } from "../../config/boot/broker";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods } from "../../mixins/events.mixin";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin";
import type { EventsRuntime } from "../../mixins/events/runtime";
import type { EventMessage } from "../../mixins/events/policy";
import type { EventBus } from "../../mixins/events/buses/bus";
import { EVENTS, type DomainEvent } from "../../services/common/events";
import { defineService, type ServiceThis } from "../../services/common/schema";
import { NATS_URL, REDIS_URL, testConfig } from "../helpers/shop";
import { payloadOf } from "../helpers/events";

type Log = Map<string, string[]>;

/** What each test consumer saw: consumer name → event ids, in arrival order (with repeats). */
const seen: Log = new Map();
/** How many times each consumer still fails before it succeeds (Infinity: always). */
const failures = new Map<string, number>();
const attempts = new Map<string, number>();

function record(consumer: string, event: DomainEvent): void {
	attempts.set(`${consumer}|${event.event_id}`, (attempts.get(`${consumer}|${event.event_id}`) ?? 0) + 1);
	const left = failures.get(consumer) ?? 0;
	if (left > 0) {
		failures.set(consumer, left - 1);
		throw new Error(`${consumer} is failing on purpose`);
	}
	seen.set(consumer, [...(seen.get(consumer) ?? []), event.event_id]);
}

const RETRY = { attempts: 5, baseDelayMs: 30 };

type PublisherThis = ServiceThis<object, EventsMethods & DbMethods>;

const producer: ServiceSchema = defineService<object, EventsMethods & DbMethods>({
	name: "ledger",
	mixins: [EventsMixin()],
	actions: {
		/** Publishes from inside a request, so that the request's meta (fault-injection rules) goes with the event. */
		book: {
			async handler(this: PublisherThis, ctx: Context<{ order_id: string }>): Promise<DomainEvent<{ order_id: string }>> {
				return this.publish(ctx, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: ctx.params.order_id }));
			},
		},
	},
});
/** A consumer service group: replicas on several nodes share its events. */
function auditor(nodeTag: string): ServiceSchema {
	return {
		name: "audit",
		mixins: [
			EventsMixin({
				retry: RETRY,
				handlers: {
					[EVENTS.ORDER_CREATED]: async (event: DomainEvent) => record(`audit@${nodeTag}`, event),
					[EVENTS.ORDER_UPDATED]: async (event: DomainEvent) => record("flaky", event),
					[EVENTS.ORDER_CANCELLED]: async (event: DomainEvent) => record("broken", event),
				},
			}),
		],
	};
}
/** A read model: every node gets every event. */
function mirror(nodeTag: string): ServiceSchema {
	return {
		name: "mirror",
		mixins: [EventsMixin({ fanout: "node", retry: RETRY, handlers: { [EVENTS.ORDER_CREATED]: async (e: DomainEvent) => record(`mirror@${nodeTag}`, e) } })],
	};
}

/** Stores a thing with its event staged in the same write; `crash` stops before the event is published. */
const shelf: ServiceSchema = defineService<object, EventsMethods & DbMethods>({
	name: "shelf",
	mixins: [DbMixin({ things: {} }), EventsMixin({ stagedIn: ["things"] })],
	actions: {
		put: {
			async handler(this: PublisherThis, ctx: Context<{ id: string; crash: boolean }>): Promise<DomainEvent<{ order_id: string }>> {
				const staged = this.stageEvent(ctx, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: ctx.params.id }));
				await this.collection<{ id: string; [STAGED_EVENTS_FIELD]: unknown[] }>("things").insert({ id: ctx.params.id, [STAGED_EVENTS_FIELD]: [staged] });
				if (!ctx.params.crash) await this.publishStaged("things", ctx.params.id, [staged]);
				return staged.event;
			},
		},
	},
});

async function startNode(env: Record<string, string>, nodeID: string, schemas: ServiceSchema[]): Promise<ServiceBroker> {
	const config = testConfig(env);
	const broker = createShopBroker({ config, services: [], broker: { nodeID } });
	for (const s of schemas) broker.createService(s);
	await broker.start();
	return broker;
}

function svc(broker: ServiceBroker, name: string): EventsMethods & { $events: EventsRuntime } {
	return broker.getLocalService(name) as unknown as EventsMethods & { $events: EventsRuntime };
}

async function until(check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not reached in time");
		await new Promise(r => setTimeout(r, 25));
	}
}

const count = (consumer: string): number => seen.get(consumer)?.length ?? 0;

describe.each([
	["embedded mode", false],
	["NATS JetStream", true],
])("durable events in %s", (_mode, nats) => {
	let env: Record<string, string>;
	const brokers: ServiceBroker[] = [];

	beforeEach(() => {
		seen.clear();
		failures.clear();
		attempts.clear();
		env = { NAMESPACE: `t-ev-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, ...(nats ? { NATS_URL } : {}) };
	});
	afterEach(async () => {
		for (const b of brokers.splice(0)) await b.stop();
	});

	async function node(id: string, schemas: ServiceSchema[]): Promise<ServiceBroker> {
		const b = await startNode(env, `${id}-${env.NAMESPACE}`, schemas);
		brokers.push(b);
		return b;
	}

	it("delivers each event once to a consumer group and to every node of a fanout consumer", async () => {
		const a = await node("a", [producer, auditor("a"), mirror("a")]);
		await node("b", [auditor("b"), mirror("b")]);
		const ids: string[] = [];
		for (let i = 0; i < 20; i++) ids.push((await svc(a, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: `o${i}` }))).event_id);
		await until(() => count("audit@a") + count("audit@b") >= 20 && count("mirror@a") >= 20 && count("mirror@b") >= 20);
		await new Promise(r => setTimeout(r, 300));
		const group = [...(seen.get("audit@a") ?? []), ...(seen.get("audit@b") ?? [])];
		expect(group.sort()).toEqual([...ids].sort());
		expect([...(seen.get("mirror@a") ?? [])].sort()).toEqual([...ids].sort());
		expect([...(seen.get("mirror@b") ?? [])].sort()).toEqual([...ids].sort());
		expect((await svc(a, "ledger").$events.stats()).pending_outbox).toBe(0);
	});

	it("keeps the events of a consumer service that is down and delivers them when it is back", async () => {
		const a = await node("a", [producer]);
		const c1 = await startNode(env, `c1-${env.NAMESPACE}`, [auditor("c")]);
		await c1.stop();
		const ev = await svc(a, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o8" }));
		await new Promise(r => setTimeout(r, 200));
		expect(count("audit@c")).toBe(0);
		await node("c2", [auditor("c")]);
		await until(() => count("audit@c") === 1);
		expect(seen.get("audit@c")).toEqual([ev.event_id]);
	});

	it("retries a consumer that fails a few times until it receives the event", async () => {
		const a = await node("a", [producer, auditor("a")]);
		failures.set("flaky", 3);
		const ev = await svc(a, "ledger").publish(null, EVENTS.ORDER_UPDATED, payloadOf(EVENTS.ORDER_UPDATED, { order_id: "o1" }));
		await until(() => count("flaky") === 1);
		expect(attempts.get(`flaky|${ev.event_id}`)).toBe(4);
		expect((await svc(a, "audit").$events.stats()).dead_letters).toBe(0);
	});

	it("puts an event that always fails in the dead-letter store, from where a redrive delivers it", async () => {
		const a = await node("a", [producer, auditor("a")]);
		failures.set("broken", Infinity);
		const ev = await svc(a, "ledger").publish(null, EVENTS.ORDER_CANCELLED, payloadOf(EVENTS.ORDER_CANCELLED, { order_id: "o2" }));
		// Other events keep flowing while one fails.
		await svc(a, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o3" }));
		await until(() => count("audit@a") === 1);
		await until(async () => (await svc(a, "audit").$events.stats()).dead_letters === 1);
		expect(attempts.get(`broken|${ev.event_id}`)).toBe(5);
		const list = (await a.call("audit.deadLetters", {})) as { rows: Array<{ id: string; event_id: string; error: string; attempts: number; consumer: string }> };
		expect(list.rows).toHaveLength(1);
		expect(list.rows[0]).toMatchObject({ event_id: ev.event_id, attempts: 5, consumer: "audit" });
		expect(list.rows[0].error).toContain("failing on purpose");

		failures.set("broken", 0);
		const res = await a.call("audit.redriveDeadLetter", { id: list.rows[0].id });
		expect(res).toMatchObject({ status: "redriven", event_id: ev.event_id });
		expect(seen.get("broken")).toEqual([ev.event_id]);
		expect((await svc(a, "audit").$events.stats()).dead_letters).toBe(0);
	});

	it("sends an event whose delivery fails by fault injection (message-bus) through retries to the dead letters", async () => {
		const a = await node("a", [producer, auditor("a")]);
		const behavior = parseBehavior("message-bus:error=503:1");
		const ev = (await a.call("ledger.book", { order_id: "o9" }, { meta: { behavior } })) as DomainEvent;
		await until(async () => (await svc(a, "audit").$events.stats()).dead_letters === 1);
		expect(count("audit@a")).toBe(0);
		const list = (await a.call("audit.deadLetters", {})) as { rows: Array<{ id: string; event_id: string; error: string; attempts: number }> };
		expect(list.rows[0]).toMatchObject({ event_id: ev.event_id, attempts: 5 });
		expect(list.rows[0].error).toMatch(/Injected fault/);
		// The redrive runs with the admin's request, not with the fault rules of the original one.
		expect(await a.call("audit.redriveDeadLetter", { id: list.rows[0].id })).toMatchObject({ status: "redriven" });
		expect(seen.get("audit@a")).toEqual([ev.event_id]);
	});

	it("keeps an event the bus refused in the outbox and relays it once the bus takes it", async () => {
		const a = await node("a", [producer, auditor("a")]);
		const bus = svc(a, "ledger").$events.activeBus as EventBus;
		const publishToBus = bus.publish.bind(bus);
		bus.publish = async () => {
			throw new Error("bus unreachable");
		};
		const ev = await svc(a, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o7" }));
		expect((await svc(a, "ledger").$events.stats()).pending_outbox).toBe(1);
		await new Promise(r => setTimeout(r, 300));
		expect(count("audit@a")).toBe(0);
		bus.publish = publishToBus;
		await until(() => count("audit@a") === 1, 6000);
		expect(seen.get("audit@a")).toEqual([ev.event_id]);
		expect((await svc(a, "ledger").$events.stats()).pending_outbox).toBe(0);
	});

	it("handles a duplicate delivery of the same event once, also across replicas sharing Redis", async () => {
		env = { ...env, REDIS_URL };
		const a = await node("a", [producer, auditor("a")]);
		await node("b", [auditor("b")]);
		const ev = await svc(a, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o4" }));
		await until(() => count("audit@a") + count("audit@b") === 1);
		const runtime = svc(a, "ledger").$events;
		// The same envelope again, validly signed (seal gives the same signature): only the claim can drop it.
		const message = runtime.seal({ event_id: ev.event_id, name: EVENTS.ORDER_CREATED, source: "ledger", event: ev, meta: {}, created_at: ev.occurred_at } as unknown as EventMessage);
		await runtime.activeBus?.publish(message, { dedupe: false });
		await runtime.activeBus?.publish(message, { dedupe: false });
		await new Promise(r => setTimeout(r, 500));
		expect(count("audit@a") + count("audit@b")).toBe(1);
	});

	it("delivers an event stored in the outbox but not relayed before a crash once the publisher restarts", async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-outbox-"));
		try {
			await node("c", [auditor("c")]);
			const p1 = await startNode({ ...env, DATA_DIR: dataDir }, `p1-${env.NAMESPACE}`, [producer]);
			svc(p1, "ledger").$events.relayPaused = true;
			const ev = await svc(p1, "ledger").publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: "o5" }));
			expect((await svc(p1, "ledger").$events.stats()).pending_outbox).toBe(1);
			await p1.stop();
			await new Promise(r => setTimeout(r, 200));
			expect(count("audit@c")).toBe(0);

			const p2 = await startNode({ ...env, DATA_DIR: dataDir }, `p2-${env.NAMESPACE}`, [producer]);
			brokers.push(p2);
			await until(() => count("audit@c") === 1);
			expect(seen.get("audit@c")).toEqual([ev.event_id]);
			expect((await svc(p2, "ledger").$events.stats()).pending_outbox).toBe(0);
		} finally {
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});

	it("keeps a staged event in its document while the bus does not take it, and the sweep publishes it later", async () => {
		await node("c", [auditor("c")]);
		const p1 = await startNode(env, `p1-${env.NAMESPACE}`, [shelf]);
		brokers.push(p1);
		const runtime = svc(p1, "shelf").$events;
		const bus = runtime.activeBus as EventBus;
		const publish = bus.publish.bind(bus);
		bus.publish = () => Promise.reject(new Error("bus down"));
		const ev = (await p1.call("shelf.put", { id: "t3", crash: false })) as DomainEvent;
		const things = (p1.getLocalService("shelf") as unknown as DbMethods).collection<{ id: string; pending_events?: Array<{ event_id: string }> }>("things");
		expect((await things.findById("t3"))?.pending_events?.map(e => e.event_id)).toEqual([ev.event_id]);
		expect(count("audit@c")).toBe(0);
		await runtime.sweepStaged(0);
		// Monitoring sees it: the document with an unpublished staged event counts as pending.
		expect((await runtime.stats()).pending_outbox).toBe(1);
		bus.publish = publish;
		await runtime.sweepStaged(0);
		await until(() => count("audit@c") === 1);
		expect(seen.get("audit@c")).toEqual([ev.event_id]);
		expect((await things.findById("t3"))?.pending_events).toEqual([]);
		expect((await runtime.stats()).pending_outbox).toBe(0);
	});

	it("sweeps a document holding several staged events once, each event published once", async () => {
		await node("c", [auditor("c")]);
		const p1 = await startNode(env, `p1-${env.NAMESPACE}`, [shelf]);
		brokers.push(p1);
		const shelfSvc = p1.getLocalService("shelf") as unknown as EventsMethods & DbMethods & { $events: EventsRuntime };
		const old = new Date(Date.now() - 60_000).toISOString();
		const staged = ["o6", "o7", "o8"].map(order_id => ({ ...shelfSvc.stageEvent(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id })), created_at: old }));
		await shelfSvc.collection<{ id: string; [STAGED_EVENTS_FIELD]: unknown[] }>("things").insert({ id: "t4", [STAGED_EVENTS_FIELD]: staged });
		const bus = shelfSvc.$events.activeBus as EventBus;
		const publish = bus.publish.bind(bus);
		let published = 0;
		bus.publish = (...args) => ((published += 1), publish(...args));
		// Two sweeps at once (the relay's own tick and this one, say) publish the document once, not once each.
		await Promise.all([shelfSvc.$events.sweepStaged(5_000), shelfSvc.$events.sweepStaged(5_000)]);
		expect(published).toBe(3);
		await until(() => count("audit@c") === 3);
		await new Promise(r => setTimeout(r, 300));
		expect([...(seen.get("audit@c") ?? [])].sort()).toEqual(staged.map(m => m.event_id).sort());
	});

	it("publishes an event staged in the same write as its change, also when the publisher stopped right after the write", async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-staged-"));
		try {
			await node("c", [auditor("c")]);
			const p1 = await startNode({ ...env, DATA_DIR: dataDir }, `p1-${env.NAMESPACE}`, [shelf]);
			const done = (await p1.call("shelf.put", { id: "t1", crash: false })) as DomainEvent;
			const crashed = (await p1.call("shelf.put", { id: "t2", crash: true })) as DomainEvent;
			await until(() => count("audit@c") === 1);
			expect(seen.get("audit@c")).toEqual([done.event_id]);
			await p1.stop();

			const p2 = await startNode({ ...env, DATA_DIR: dataDir }, `p2-${env.NAMESPACE}`, [shelf]);
			brokers.push(p2);
			await until(() => count("audit@c") === 2);
			expect(seen.get("audit@c")).toEqual([done.event_id, crashed.event_id]);
			const things = (p2.getLocalService("shelf") as unknown as DbMethods).collection<{ id: string; pending_events?: unknown[] }>("things");
			await until(async () => ((await things.findById("t2"))?.pending_events ?? []).length === 0);
		} finally {
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
