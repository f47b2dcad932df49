/**
 * A published domain event is observed on one path: the relay announces it once, when the bus took it, and the
 * business metrics count it from there, once, whether it was published through the outbox or staged in a document,
 * in embedded mode and over NATS JetStream.
 */
import { METRIC, type Context, type ServiceBroker, type ServiceSchema } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods } from "../../mixins/events.mixin";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin";
import { EVENTS, type DomainEvent } from "../../services/common/events";
import { METRICS } from "../../services/common/metrics";
import { onPublished } from "../../services/common/published";
import { defineService, type ServiceThis } from "../../services/common/schema";
import { NATS_URL, testConfig } from "../helpers/shop";
import { payloadOf } from "../helpers/events";

type RefunderThis = ServiceThis<object, EventsMethods & DbMethods>;

/** Publishes payment.refunded (counted without any per-order de-duplication) through the outbox or staged. */
const refunder: ServiceSchema = defineService<object, EventsMethods & DbMethods>({
	name: "refunder",
	mixins: [DbMixin({ refunds: {} }), EventsMixin({ stagedIn: ["refunds"], relayIntervalMs: 100 })],
	actions: {
		viaOutbox: {
			async handler(this: RefunderThis, ctx: Context<{ id: string }>): Promise<DomainEvent<{ order_id: string }>> {
				return this.publish(ctx, EVENTS.PAYMENT_REFUNDED, payloadOf(EVENTS.PAYMENT_REFUNDED, { order_id: ctx.params.id }));
			},
		},
		staged: {
			async handler(this: RefunderThis, ctx: Context<{ id: string }>): Promise<DomainEvent<{ order_id: string }>> {
				const staged = this.stageEvent(ctx, EVENTS.PAYMENT_REFUNDED, payloadOf(EVENTS.PAYMENT_REFUNDED, { order_id: ctx.params.id }));
				await this.collection<{ id: string; [STAGED_EVENTS_FIELD]: unknown[] }>("refunds").insert({ id: ctx.params.id, [STAGED_EVENTS_FIELD]: [staged] });
				await this.publishStaged("refunds", ctx.params.id, [staged]);
				return staged.event;
			},
		},
	},
});

let received: string[] = [];
/** A consumer, so that the in-process bus holds the events until they are consumed. */
const consumer: ServiceSchema = {
	name: "refund-audit",
	mixins: [EventsMixin({ handlers: { [EVENTS.PAYMENT_REFUNDED]: async (e: DomainEvent) => void received.push(e.event_id) } })],
};

/** shopflow_refunds_total, and Moleculer's count of this node's emitted payment.refunded events. */
function refunds(broker: ServiceBroker): [number, number] {
	const sum = (name: string, event?: string): number => {
		const metric = broker.metrics.getMetric(name) as unknown as { snapshot(): Array<{ value: number; labels: Record<string, unknown> }> };
		return metric.snapshot().reduce((n, v) => n + (event === undefined || v.labels.event === event ? v.value : 0), 0);
	};
	return [sum(METRICS.REFUNDS), sum(METRIC.MOLECULER_EVENT_EMIT_TOTAL, EVENTS.PAYMENT_REFUNDED)];
}

async function until(check: () => boolean, ms = 8000): Promise<void> {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error("condition not reached in time");
		await new Promise(r => setTimeout(r, 25));
	}
}

describe.each([
	["embedded mode", false],
	["NATS JetStream", true],
])("observing published events in %s", (_mode, nats) => {
	let broker: ServiceBroker;
	const announced = new Map<string, number>();

	beforeEach(async () => {
		received = [];
		announced.clear();
		const ns = `he3-evm-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
		const config = testConfig({ NAMESPACE: ns, ...(nats ? { NATS_URL } : {}) });
		broker = createShopBroker({ config, services: [], broker: { nodeID: `n-${ns}` } });
		broker.createService(refunder);
		broker.createService(consumer);
		onPublished(broker, e => announced.set(e.event_id, (announced.get(e.event_id) ?? 0) + 1));
		await broker.start();
	});
	afterEach(() => broker.stop());

	it("counts one event published through the outbox exactly once", async () => {
		const before = refunds(broker);
		const ev = (await broker.call("refunder.viaOutbox", { id: "r1" })) as DomainEvent;
		await until(() => received.includes(ev.event_id));
		// Several relay ticks and sweeps later, still once.
		await new Promise(r => setTimeout(r, 600));
		expect(refunds(broker)).toEqual([before[0] + 1, before[1] + 1]);
		expect([...announced]).toEqual([[ev.event_id, 1]]);
	});

	it("counts one staged event exactly once", async () => {
		const before = refunds(broker);
		const ev = (await broker.call("refunder.staged", { id: "r2" })) as DomainEvent;
		await until(() => received.includes(ev.event_id));
		await new Promise(r => setTimeout(r, 600));
		expect(refunds(broker)).toEqual([before[0] + 1, before[1] + 1]);
		expect([...announced]).toEqual([[ev.event_id, 1]]);
	});
});
