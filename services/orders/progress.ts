/**
 * How the saga's progress moves the order through its state machine: each completed step advances the happy
 * path, compensation shows as COMPENSATING, and the end is FAILED with the failing step's reason, or CANCELLED.
 * Pure and idempotent: applying the same saga state twice changes nothing the second time.
 */
import type { SagaState } from "./saga-engine";
import { advanceTo, isTerminal, transition, type FailureReason, type OrderState, type OrderStatus } from "./state-machine";

/** The order status each completed step stands for. */
export const STEP_STATUS: Record<string, OrderStatus> = { payment: "PAID", inventory: "STOCK_RESERVED", shipping: "SHIPPED" };
/** The failure reason of each step (DESIGN.md section 5). */
export const STEP_FAILURE: Record<string, FailureReason> = { payment: "PAYMENT_ERROR", inventory: "OUT_OF_STOCK", shipping: "SHIPPING_ERROR" };

export interface ProgressFields extends OrderState {
	payment_id: string | null;
	shipment_id: string | null;
}

function resultField(saga: SagaState, step: string, field: string): string | null {
	const rec = saga.steps.find(s => s.name === step);
	if (!rec) return null;
	// A done step has it in its result; a refused one (a declined payment) may name it in the error's data.
	const source = rec.status === "DONE" ? rec.result : rec.error?.data;
	const v = (source as Record<string, unknown> | undefined)?.[field];
	return typeof v === "string" ? v : null;
}

function compensationReason(saga: SagaState): string {
	if (saga.abort_reason) return `undoing the saga: ${saga.abort_reason.toLowerCase()} requested`;
	return `${saga.failed_step ?? "a step"} failed: ${saga.error?.message ?? "unknown error"}`;
}

/** The order after the saga state is taken into account. */
export function applySagaProgress<T extends ProgressFields>(order: T, saga: SagaState, at: string): T {
	let o: T = { ...order };
	o.payment_id = resultField(saga, "payment", "payment_id") ?? o.payment_id;
	o.shipment_id = resultField(saga, "shipping", "shipment_id") ?? o.shipment_id;
	if (isTerminal(o.status)) return o;

	if (saga.status === "RUNNING" || saga.status === "COMPLETED") {
		for (const step of saga.steps) {
			const target = STEP_STATUS[step.name];
			if (step.status !== "DONE" || !target || o.status === "COMPENSATING") continue;
			o = advanceTo(o, target, { at, reason: `${step.name} step done` });
		}
		return o;
	}

	// COMPENSATING shows once something is being undone (a declined payment goes straight to FAILED).
	const undoneSomething = saga.steps.some(s => s.status === "COMPENSATING" || s.status === "COMPENSATED");
	if (o.status !== "COMPENSATING" && (undoneSomething || o.status !== "PENDING"))
		o = transition(o, "COMPENSATING", { at, reason: compensationReason(saga) });
	if (saga.status === "COMPENSATING") return o;

	// COMPENSATED: the end of a failed or cancelled saga.
	if (saga.abort_reason) return transition(o, "CANCELLED", { at, reason: `${saga.abort_reason.toLowerCase()} by the customer` });
	const reason = STEP_FAILURE[saga.failed_step ?? ""] ?? "PAYMENT_ERROR";
	return transition(o, "FAILED", { at, reason: compensationReason(saga), failureReason: reason });
}
