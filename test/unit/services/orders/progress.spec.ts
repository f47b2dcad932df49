import { applySagaProgress } from "../../../../services/orders/progress";
import { createSagaState, type SagaState, type StepStatus } from "../../../../mixins/saga/engine";
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
