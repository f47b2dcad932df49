/**
 * How the saga's progress moves the order through its state machine: each completed step advances the happy
 * path, compensation shows as COMPENSATING, and the end is FAILED with the failing step's reason, or CANCELLED.
 * Pure and idempotent: applying the same saga state twice changes nothing the second time.
 */
import type { SagaState } from "../../mixins/saga/engine";
import { STEP_MEANING } from "./steps";
import { advanceTo, isTerminal, transition, type FailureReason, type OrderState } from "./state-machine";

/** The failure reason of a failed saga: what its failing step declares for that kind of failure. */
export function failureReasonOf(saga: SagaState): FailureReason {
	const meaning = STEP_MEANING[saga.failed_step ?? ""];
	if (!meaning) return "PAYMENT_ERROR";
	return meaning.failure[saga.error?.kind ?? "business"];
}

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
			const target = STEP_MEANING[step.name]?.success;
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
	return transition(o, "FAILED", { at, reason: compensationReason(saga), failureReason: failureReasonOf(saga) });
}
