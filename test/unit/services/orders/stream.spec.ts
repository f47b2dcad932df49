import { createSagaState, type SagaState } from "../../../../mixins/saga/engine";
import { newOrderDoc, sagaDataFor, type OrderDoc, type OrderSagaData } from "../../../../services/orders/model";
import { applySagaProgress } from "../../../../services/orders/progress";
import { applyShipmentReport } from "../../../../services/orders/shipment-report";
import { mergeShipments } from "../../../../services/orders/shops";
import { transition } from "../../../../services/orders/state-machine";
import { actorOf, changeEvents, createdEvent, differingFields, projectionOf, rebuild, streamDifferences, UnexplainedChangeError } from "../../../../services/orders/stream";

const T0 = "2026-01-01T00:00:00.000Z";
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const def = { name: "order", steps: ["payment", "inventory", "shipping"].map(name => ({ name, action: async () => null })) };

function placed(shops: string[] = ["shop_a"]): OrderDoc {
	const data = sagaDataFor("ord_1", {
		user_id: "u1",
		items: shops.map((shop, k) => ({ product_id: `p${k}`, name: `P${k}`, price_cents: 1000, quantity: 1, shop_id: shop })),
		currency: "EUR",
		shipping_address: { line1: "1 Main St" },
		payment: { token: "tok_visa" },
	});
	const saga = createSagaState(def, "saga_1", data) as SagaState<OrderSagaData>;
	const doc = newOrderDoc(saga, undefined, [], T0);
	return { ...doc, stream: [createdEvent(doc, "user:u1")] };
}

/** The order after a change, with the events the change appends (as updateOrder stores it). */
function write(before: OrderDoc, actor: string, change: (d: OrderDoc) => OrderDoc, now = at(99)): OrderDoc {
	const after = change(before);
	const events = changeEvents(before, after, actor, now);
	return { ...after, rev: before.rev + 1, stream: [...(before.stream ?? []), ...events] };
}

function sagaWith(doc: OrderDoc, status: SagaState["status"], steps: Array<SagaState["steps"][number]["status"]>, extra: Partial<SagaState<OrderSagaData>> = {}): SagaState<OrderSagaData> {
	const s = structuredClone(doc.saga);
	s.status = status;
	steps.forEach((st, i) => (s.steps[i].status = st));
	if (steps[0] === "DONE" || steps[0] === "COMPENSATED") s.steps[0].result = { payment_id: "pay_1" };
	if (steps[2] === "DONE") s.steps[2].result = { shipment_id: "shp_a", shipments: [{ id: "shp_a", shop_id: "shop_a", status: "SHIPPED" }] };
	return { ...s, ...extra };
}

/** saveSagaState's change, as orders.service.ts makes it. */
const progress = (state: SagaState<OrderSagaData>, when: string) => (doc: OrderDoc): OrderDoc => {
	const next = applySagaProgress(doc, state, when);
	const shipped = state.steps.find(s => s.name === "shipping" && s.status === "DONE")?.result as { shipments?: unknown } | undefined;
	const shipments = shipped ? mergeShipments(doc.shipments, (shipped.shipments as never[]) ?? []) : doc.shipments;
	return { ...next, ...(shipments ? { shipments } : {}), saga: state, updated_at: next.history.length !== doc.history.length ? when : doc.updated_at };
};

function expectRebuilds(doc: OrderDoc): void {
	expect(differingFields(rebuild(doc.stream ?? []), projectionOf(doc))).toEqual([]);
	expect(streamDifferences(doc)).toEqual([]);
	expect(doc.stream?.map(e => e.seq)).toEqual(doc.stream?.map((_, k) => k + 1));
}

/** A transition as the service writes it: with updated_at. */
const move = (d: OrderDoc, to: OrderDoc["status"], when: string, reason?: string): OrderDoc => ({ ...transition(d, to, { at: when, reason }), updated_at: when });

const types = (doc: OrderDoc) => doc.stream?.map(e => e.type);

describe("order streams: changeEvents and evolve", () => {
	it("a new order's stream is its created event, which folds to the order", () => {
		const doc = placed();
		expect(types(doc)).toEqual(["created"]);
		expect(doc.stream?.[0]).toMatchObject({ seq: 1, at: T0, actor: "user:u1" });
		expectRebuilds(doc);
	});

	it("round-trips the happy path: paid, stock reserved, shipped per shipment, delivered, refunded", () => {
		let doc = placed();
		doc = write(doc, "system:orders", progress(sagaWith(doc, "RUNNING", ["DONE", "RUNNING", "PENDING"]), at(1)));
		expectRebuilds(doc);
		expect(doc.stream?.at(-1)).toMatchObject({ type: "paid", at: at(1), actor: "system:orders", data: { status: "PAID", payment_id: "pay_1" } });
		doc = write(doc, "system:orders", progress(sagaWith(doc, "RUNNING", ["DONE", "DONE", "RUNNING"]), at(2)));
		doc = write(doc, "system:orders", progress(sagaWith(doc, "COMPLETED", ["DONE", "DONE", "DONE"]), at(3)));
		expectRebuilds(doc);
		expect(types(doc)).toEqual(["created", "paid", "stock_reserved", "shipment_shipped", "shipped"]);
		doc = write(doc, "system:shipping", d => applyShipmentReport(d, { order_id: d.id } as never, "DELIVERED", at(4)));
		doc = write(doc, "admin:a1", d => ({ ...d, refunded_at: at(5), updated_at: at(5) }));
		expect(types(doc)).toEqual(["created", "paid", "stock_reserved", "shipment_shipped", "shipped", "shipment_delivered", "delivered", "refunded"]);
		expect(doc.stream?.at(-1)).toMatchObject({ seq: 8, type: "refunded", at: at(5), actor: "admin:a1" });
		expect(doc).toMatchObject({ status: "DELIVERED", refunded_at: at(5), updated_at: at(5) });
		expectRebuilds(doc);
	});

	it("a shipping report that moves a parcel but not the order keeps its updated_at (after a refund too)", () => {
		let doc = placed(["shop_a", "shop_b"]);
		doc = write(doc, "system:orders", progress(sagaWith(doc, "COMPLETED", ["DONE", "DONE", "DONE"]), at(1)));
		doc = write(doc, "admin:a1", d => ({ ...d, refunded_at: at(2), updated_at: at(2) }));
		doc = write(doc, "system:shipping", d => applyShipmentReport(d, { order_id: d.id, shipment_id: "shp_b", shipments: [{ id: "shp_b", shop_id: "shop_b", status: "SHIPPED" }] } as never, "SHIPPED", at(3)));
		expect(types(doc)?.slice(-2)).toEqual(["refunded", "shipment_shipped"]);
		expect(doc.updated_at).toBe(at(2));
		expectRebuilds(doc);
	});

	it("a two-shop order: one event per shipment, each shop's delivery on its own, then delivered", () => {
		let doc = placed(["shop_a", "shop_b"]);
		const s = sagaWith(doc, "COMPLETED", ["DONE", "DONE", "DONE"]);
		s.steps[2].result = { shipment_id: "shp_a", shipments: [{ id: "shp_a", shop_id: "shop_a", status: "SHIPPED" }, { id: "shp_b", shop_id: "shop_b", status: "SHIPPED" }] };
		doc = write(doc, "system:orders", progress(s, at(1)));
		doc = write(doc, "system:shipping", d => applyShipmentReport(d, { order_id: d.id, shipments: [{ id: "shp_b", shop_id: "shop_b", status: "DELIVERED" }] } as never, null, at(2)));
		doc = write(doc, "system:shipping", d => applyShipmentReport(d, { order_id: d.id, shipments: [{ id: "shp_a", shop_id: "shop_a", status: "DELIVERED" }] } as never, null, at(3)));
		doc = write(doc, "system:shipping", d => applyShipmentReport(d, { order_id: d.id } as never, "DELIVERED", at(4)));
		expect(types(doc)).toEqual(["created", "shipment_shipped", "shipment_shipped", "paid", "stock_reserved", "shipped", "shipment_delivered", "shipment_delivered", "delivered"]);
		expect(doc.stream?.slice(6, 8).map(e => e.data.shop_id)).toEqual(["shop_b", "shop_a"]);
		expectRebuilds(doc);
	});

	it("a declined payment: failed straight from PENDING, with the payment id it recorded", () => {
		let doc = placed();
		const error = { code: 402, type: "PAYMENT_DECLINED", message: "declined", retryable: false, kind: "business" as const, reached: true, data: { payment_id: "pay_9" } };
		const declined = (status: SagaState["status"]) => {
			const s = sagaWith(doc, status, ["FAILED", "PENDING", "PENDING"], { failed_step: "payment", error });
			s.steps[0].error = error;
			return s;
		};
		doc = write(doc, "system:orders", progress(declined("COMPENSATING"), at(1)));
		expect(types(doc)).toEqual(["created", "payment_recorded"]);
		doc = write(doc, "system:orders", progress(declined("COMPENSATED"), at(2)));
		expect(types(doc)).toEqual(["created", "payment_recorded", "failed"]);
		expect(doc.stream?.at(-1)?.data).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expectRebuilds(doc);
	});

	it("a compensated order and a cancelled one", () => {
		let failed = placed();
		const error = { code: 409, type: "OUT_OF_STOCK", message: "none left", retryable: false, kind: "business" as const, reached: true };
		failed = write(failed, "system:orders", progress(sagaWith(failed, "RUNNING", ["DONE", "RUNNING", "PENDING"]), at(1)));
		failed = write(failed, "system:orders", progress(sagaWith(failed, "COMPENSATING", ["COMPENSATING", "FAILED", "PENDING"], { failed_step: "inventory", error }), at(2)));
		failed = write(failed, "system:orders", progress(sagaWith(failed, "COMPENSATED", ["COMPENSATED", "FAILED", "PENDING"], { failed_step: "inventory", error }), at(3)));
		expect(types(failed)).toEqual(["created", "paid", "compensating", "failed"]);
		expectRebuilds(failed);

		let cancelled = placed();
		cancelled = write(cancelled, "user:u1", d => ({ ...d, cancel_requested: true }));
		cancelled = write(cancelled, "system:orders", d => move(move(d, "COMPENSATING", at(2)), "CANCELLED", at(2), "cancelled by the customer"));
		expect(types(cancelled)).toEqual(["created", "cancel_requested", "compensating", "cancelled"]);
		expect(cancelled.stream?.[1]).toMatchObject({ actor: "user:u1", data: {} });
		expectRebuilds(cancelled);
	});

	it("an order stored before streams gets a legacy snapshot on its next write; without one it has no stream to rebuild", () => {
		const { stream: _s, ...legacy } = placed();
		expect(streamDifferences(legacy)).toBeNull();
		const doc = write(legacy, "system:shipping", d => move(d, "PAID", at(1)));
		expect(types(doc)).toEqual(["legacy", "paid"]);
		expectRebuilds(doc);
	});

	it("refuses a change that no event explains, and names the field", () => {
		const doc = placed();
		expect(() => changeEvents(doc, { ...doc, items: [] }, "orders", at(1))).toThrow(UnexplainedChangeError);
		expect(() => changeEvents(doc, { ...doc, status: "PAID" }, "orders", at(1))).toThrow(/status/);
		expect(() => changeEvents(doc, { ...doc, updated_at: at(1) }, "orders", at(1))).toThrow(/updated_at/);
		// The saga log, the revision and the outbox are not the projection.
		expect(changeEvents(doc, { ...doc, rev: 3, pending_events: [], saga: { ...doc.saga, status: "RUNNING" } }, "orders", at(1))).toEqual([]);
	});

	it("in production keeps such a change with an 'amended' event that rebuilds it, rather than stopping the order", () => {
		const doc = placed();
		const { shop_ids: _gone, ...withoutShops } = doc;
		const after = { ...withoutShops, items: [], total_cents: 0 } as OrderDoc;
		const events = changeEvents(doc, after, "system:orders", at(1), { strict: false });
		expect(events).toEqual([{ seq: 2, type: "amended", at: at(1), actor: "system:orders", data: { fields: { items: [], total_cents: 0 }, removed: ["shop_ids"] } }]);
		const stored = { ...after, stream: [...(doc.stream ?? []), ...events] };
		expectRebuilds(stored);
	});

	it("rebuild reports a field edited behind the stream's back, and a gap in the numbering", () => {
		const doc = placed();
		expect(streamDifferences({ ...doc, total_cents: 1 })).toEqual([{ order_id: "ord_1", field: "total_cents", stored: 1, rebuilt: 1000 }]);
		const gap = write(doc, "system:orders", d => move(d, "PAID", at(1)));
		gap.stream = gap.stream?.map(e => (e.seq === 2 ? { ...e, seq: 3 } : e));
		expect(streamDifferences(gap)?.map(d => d.field)).toEqual(["stream.seq"]);
	});

	it("names the actor: the user, admin:<id>, or the service of a system step", () => {
		expect(actorOf({ id: "u1", role: "customer" }, "system:orders")).toBe("user:u1");
		expect(actorOf({ id: "a1", role: "admin" }, "system:orders")).toBe("admin:a1");
		expect(actorOf(undefined, "system:orders")).toBe("system:orders");
	});
});
