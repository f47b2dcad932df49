import { ServiceBroker } from "moleculer";
import { BREAKER_STATES, BusinessMetricsMiddleware } from "../../../../config/middlewares/business-metrics";
import { METRICS } from "../../../../services/common/metrics";
import { announcePublished } from "../../../../services/common/published";

let n = 0;
/** What the event relay announces once the bus took an event. */
function published(broker: ServiceBroker, name: string, payload: Record<string, unknown>): void {
	announcePublished(broker, { name, source: "test", event_id: `e${++n}`, payload });
}

function value(broker: ServiceBroker, name: string, labels: Record<string, string> = {}): number | undefined {
	const metric = broker.metrics.getMetric(name) as unknown as { snapshot(): Array<{ value: number; labels: Record<string, unknown> }> };
	return metric.snapshot().find(v => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;
}

describe("BusinessMetricsMiddleware", () => {
	let broker: ServiceBroker;
	beforeEach(async () => {
		broker = new ServiceBroker({ logger: false, metrics: { enabled: true }, middlewares: [BusinessMetricsMiddleware()] });
		await broker.start();
	});
	afterEach(() => broker.stop());

	it("counts order facts from published domain events, an order's transition once", async () => {
		published(broker, "order.created", { order_id: "o1" });
		published(broker, "order.updated", { order_id: "o1", status: "COMPENSATING" });
		published(broker, "order.updated", { order_id: "o1", status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		published(broker, "payment.refunded", { order_id: "o1" });
		published(broker, "order.shipped", { order_id: "o2" });
		// A cancellation is published as order.cancelled and as order.updated CANCELLED: one cancelled order.
		published(broker, "order.cancelled", { order_id: "o3" });
		published(broker, "order.updated", { order_id: "o3", status: "CANCELLED" });
		expect(value(broker, METRICS.ORDERS_CREATED)).toBe(1);
		expect(value(broker, METRICS.COMPENSATIONS)).toBe(1);
		expect(value(broker, METRICS.ORDERS_FAILED, { reason: "OUT_OF_STOCK" })).toBe(1);
		expect(value(broker, METRICS.REFUNDS)).toBe(1);
		expect(value(broker, METRICS.ORDERS_COMPLETED, { status: "SHIPPED" })).toBe(1);
		expect(value(broker, METRICS.ORDERS_CANCELLED)).toBe(1);
	});

	it("does not count events that are only emitted through Moleculer (domain events are published)", async () => {
		await broker.emit("order.created", { event_id: "x1", order_id: "o9" });
		expect(value(broker, METRICS.ORDERS_CREATED)).toBe(0);
	});

	it("tracks circuit breaker state per target from the breaker's broadcasts", async () => {
		const target = { nodeID: "n2", service: "payments", action: "payments.charge" };
		await broker.broadcast("$circuit-breaker.opened", target);
		expect(value(broker, METRICS.BREAKER_STATE, { action: "payments.charge" })).toBe(BREAKER_STATES.opened);
		await broker.broadcast("$circuit-breaker.half-opened", target);
		expect(value(broker, METRICS.BREAKER_STATE, { action: "payments.charge" })).toBe(BREAKER_STATES["half-opened"]);
		await broker.broadcast("$circuit-breaker.closed", target);
		expect(value(broker, METRICS.BREAKER_STATE, { action: "payments.charge", target_node: "n2" })).toBe(BREAKER_STATES.closed);
		expect(value(broker, METRICS.BREAKER_TRANSITIONS, { state: "opened" })).toBe(1);
	});
});
