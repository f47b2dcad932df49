import { applySagaProgress, sagaOutcome } from "../../../../services/orders/progress";
import { ORDER_STEPS, orderSaga, type OrderStep } from "../../../../services/orders/steps";
import { createSagaState, type FailureKind, type SagaState, type StepError, type StepStatus } from "../../../../mixins/saga/engine";
import { initialState } from "../../../../services/orders/state-machine";

const AT = "2026-01-01T00:00:00.000Z";
const order = () => ({ ...initialState(AT), payment_id: null as string | null, shipment_id: null as string | null });
const def = { name: "order", steps: ["payment", "inventory", "shipping"].map(name => ({ name, action: async () => null })) };

function saga(status: SagaState["status"], steps: StepStatus[], extra: Partial<SagaState> = {}): SagaState {
	const s = createSagaState(def, "saga_1", {});
	s.status = status;
	steps.forEach((st, i) => (s.steps[i].status = st));
	s.steps[0].result = { payment_id: "pay_1" };
	s.steps[2].result = { shipment_id: "shp_1" };
	return { ...s, ...extra };
}

describe("applySagaProgress", () => {
	it("moves the order to the status of each completed step and picks up payment and shipment ids", () => {
		const paid = applySagaProgress(order(), saga("RUNNING", ["DONE", "RUNNING", "PENDING"]), AT);
		expect(paid).toMatchObject({ status: "PAID", payment_id: "pay_1", shipment_id: null });
		const shipped = applySagaProgress(paid, saga("COMPLETED", ["DONE", "DONE", "DONE"]), AT);
		expect(shipped.history.map(h => h.status)).toEqual(["PENDING", "PAID", "STOCK_RESERVED", "SHIPPED"]);
		expect(shipped.shipment_id).toBe("shp_1");
	});

	it("is idempotent", () => {
		const s = saga("COMPLETED", ["DONE", "DONE", "DONE"]);
		const once = applySagaProgress(order(), s, AT);
		expect(applySagaProgress(once, s, AT).history).toHaveLength(once.history.length);
	});

	it("fails a declined payment straight from PENDING with PAYMENT_ERROR", () => {
		const s = saga("COMPENSATED", ["FAILED", "PENDING", "PENDING"], { failed_step: "payment", error: { code: 402, type: "PAYMENT_DECLINED", message: "declined", retryable: false, kind: "business", reached: true } });
		const o = applySagaProgress(order(), s, AT);
		expect(o).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(o.history.map(h => h.status)).toEqual(["PENDING", "FAILED"]);
	});

	it("goes through COMPENSATING to FAILED OUT_OF_STOCK when the reservation fails", () => {
		const paid = applySagaProgress(order(), saga("RUNNING", ["DONE", "PENDING", "PENDING"]), AT);
		const comp = applySagaProgress(paid, saga("COMPENSATING", ["COMPENSATING", "FAILED", "PENDING"], { failed_step: "inventory" }), AT);
		expect(comp.status).toBe("COMPENSATING");
		const done = applySagaProgress(comp, saga("COMPENSATED", ["COMPENSATED", "FAILED", "PENDING"], { failed_step: "inventory" }), AT);
		expect(done).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		expect(done.history.map(h => h.status)).toEqual(["PENDING", "PAID", "COMPENSATING", "FAILED"]);
	});

	it("fails INVENTORY_UNAVAILABLE, not OUT_OF_STOCK, when inventory could not answer", () => {
		const paid = applySagaProgress(order(), saga("RUNNING", ["DONE", "PENDING", "PENDING"]), AT);
		const down = { code: 503, type: "SERVICE_UNAVAILABLE", message: "inventory is unavailable", retryable: true, kind: "technical" as const, reached: true };
		const done = applySagaProgress(paid, saga("COMPENSATED", ["COMPENSATED", "FAILED", "PENDING"], { failed_step: "inventory", error: down }), AT);
		expect(done).toMatchObject({ status: "FAILED", failure_reason: "INVENTORY_UNAVAILABLE" });
	});

	it("ends SHIPPING_ERROR failures and cancellations", () => {
		const reserved = applySagaProgress(order(), saga("RUNNING", ["DONE", "DONE", "PENDING"]), AT);
		const failed = applySagaProgress(reserved, saga("COMPENSATED", ["COMPENSATED", "COMPENSATED", "FAILED"], { failed_step: "shipping" }), AT);
		expect(failed).toMatchObject({ status: "FAILED", failure_reason: "SHIPPING_ERROR" });
		const cancelled = applySagaProgress(reserved, saga("COMPENSATED", ["COMPENSATED", "COMPENSATED", "PENDING"], { abort_reason: "CANCELLED" }), AT);
		expect(cancelled).toMatchObject({ status: "CANCELLED", failure_reason: null });
		expect(cancelled.history.map(h => h.status)).toEqual(["PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING", "CANCELLED"]);
	});

	it("leaves a terminal order's status alone", () => {
		const failed = applySagaProgress(order(), saga("COMPENSATED", ["FAILED", "PENDING", "PENDING"], { failed_step: "payment" }), AT);
		expect(applySagaProgress(failed, saga("COMPENSATED", ["FAILED", "PENDING", "PENDING"]), AT).history).toEqual(failed.history);
	});
});

const failing = (kind: FailureKind, code: number): StepError => ({ code, type: "X", message: "x", retryable: kind === "technical", kind, reached: true });

describe("sagaOutcome", () => {
	it.each([
		["a declined card", "payment", failing("business", 402), "COMPENSATED", "PAYMENT_ERROR", 402],
		["a payment gateway that stayed down", "payment", failing("technical", 503), "COMPENSATED", "PAYMENT_ERROR", 503],
		["stock that ran out, while the payment is refunded", "inventory", failing("business", 409), "COMPENSATING", "OUT_OF_STOCK", 409],
		["inventory that could not answer", "inventory", failing("technical", 503), "COMPENSATED", "INVENTORY_UNAVAILABLE", 503],
		["a refused shipment", "shipping", failing("business", 422), "COMPENSATED", "SHIPPING_ERROR", 409],
		["shipping that stayed down, while stock is released", "shipping", failing("technical", 504), "COMPENSATING", "SHIPPING_ERROR", 503],
	] as const)("gives %s the reason and HTTP status its step declares", (_what, failedStep, error, status, reason, http) => {
		expect(sagaOutcome(saga(status, ["COMPENSATED", "COMPENSATED", "FAILED"], { failed_step: failedStep, error }))).toEqual({ failure_reason: reason, http_status: http });
	});

	it("gives a cancel no reason and 409, and a saga going forward or completed no outcome", () => {
		expect(sagaOutcome(saga("COMPENSATING", ["COMPENSATING", "PENDING", "PENDING"], { abort_reason: "CANCELLED" }))).toEqual({ failure_reason: null, http_status: 409 });
		expect(sagaOutcome(saga("RUNNING", ["DONE", "RUNNING", "PENDING"]))).toBeNull();
		expect(sagaOutcome(saga("COMPLETED", ["DONE", "DONE", "DONE"]))).toBeNull();
	});
});

describe("the order saga's declarations", () => {
	it("declare every step's meaning beside its action and compensation", () => {
		const def = orderSaga(async () => null);
		expect(def.steps.map(s => [s.name, s.meaning.success, typeof s.action, typeof s.compensation])).toEqual([
			["voucher", "PENDING", "function", "function"],
			["payment", "PAID", "function", "function"],
			["inventory", "STOCK_RESERVED", "function", "function"],
			["shipping", "SHIPPED", "function", "function"],
		]);
		expect(ORDER_STEPS.map(s => s.meaning)).toEqual(def.steps.map(s => s.meaning));
		expect(ORDER_STEPS[0].meaning.failure.business).toEqual({ reason: "VOUCHER_UNAVAILABLE", http: 409 });
	});

	it("leave the voucher step out of a new order without a voucher, and keep it for one with a voucher", () => {
		const data = (voucher: { code: string; discount_cents: number } | null) => ({ voucher }) as unknown as Parameters<typeof orderSaga>[1];
		expect(orderSaga(async () => null, data(null)).steps.map(s => s.name)).toEqual(["payment", "inventory", "shipping"]);
		expect(orderSaga(async () => null, data({ code: "TEN", discount_cents: 100 })).steps.map(s => s.name)).toEqual(["voucher", "payment", "inventory", "shipping"]);
	});

	it("are the only source of what a step means: other steps, other meanings", () => {
		// The same names declared otherwise: nothing else decides from the name.
		const [, payment, inventory, shipping] = ORDER_STEPS;
		const steps: OrderStep[] = [
			{ ...payment, meaning: { success: "PAID", failure: { business: { reason: "SHIPPING_ERROR", http: 409 }, technical: { reason: "SHIPPING_ERROR", http: 503 } } } },
			{ ...inventory, meaning: { success: "STOCK_RESERVED", failure: inventory.meaning.failure, records: ["shipment_id"] } },
			{ ...shipping, meaning: { ...shipping.meaning, records: [] } },
		];
		const running = saga("RUNNING", ["DONE", "DONE", "RUNNING"]);
		running.steps[1].result = { shipment_id: "shp_from_inventory" };
		// The payment here declares no recorded field, the inventory the shipment id.
		expect(applySagaProgress(order(), running, AT, steps)).toMatchObject({ status: "STOCK_RESERVED", payment_id: null, shipment_id: "shp_from_inventory" });
		const declined = saga("COMPENSATED", ["FAILED", "PENDING", "PENDING"], { failed_step: "payment", error: failing("business", 402) });
		expect(sagaOutcome(declined, steps)).toEqual({ failure_reason: "SHIPPING_ERROR", http_status: 409 });
		expect(applySagaProgress(order(), declined, AT, steps)).toMatchObject({ status: "FAILED", failure_reason: "SHIPPING_ERROR" });
	});
});
