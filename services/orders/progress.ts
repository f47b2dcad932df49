/**
 * How the saga's progress moves the order through its state machine: each completed step advances the order to
 * the status the step declares, compensation shows as COMPENSATING, and the end is FAILED with the failing
 * step's declared reason, or CANCELLED. Only the steps' declarations (orders/steps.ts) say what a step means.
 * Pure and idempotent: applying the same saga state twice changes nothing the second time.
 */
import type { SagaState } from "../../mixins/saga/engine";
import type { SagaOutcome } from "./model";
import { CANCELLED_HTTP_STATUS, ORDER_STEPS, UNDECLARED_FAILURE, type FailureMeaning, type OrderStep, type StepMeaning } from "./steps";
import { advanceTo, isTerminal, transition, type OrderState } from "./state-machine";

function meaningOf(steps: readonly OrderStep[], name: string | null): StepMeaning | undefined {
	return steps.find(s => s.name === name)?.meaning;
}

/** What the failing step of a saga declares for its kind of failure. */
function failureOf(saga: SagaState, steps: readonly OrderStep[]): FailureMeaning {
	return meaningOf(steps, saga.failed_step)?.failure[saga.error?.kind ?? "business"] ?? UNDECLARED_FAILURE;
}

/**
 * How a saga that is undoing itself, or was undone, ends for the order: the failing step's declared reason and
 * HTTP status, or no reason and 409 for a cancel. Null while it goes forward or once it completed.
 */
export function sagaOutcome(saga: SagaState, steps: readonly OrderStep[] = ORDER_STEPS): SagaOutcome | null {
	if (saga.status === "RUNNING" || saga.status === "COMPLETED") return null;
	if (saga.abort_reason) return { failure_reason: null, http_status: CANCELLED_HTTP_STATUS };
	const failure = failureOf(saga, steps);
	return { failure_reason: failure.reason, http_status: failure.http };
}

export interface ProgressFields extends OrderState {
	payment_id: string | null;
	shipment_id: string | null;
}

/** The value of `field` from the step that declares it records it: its result, or a refusal's error data (a declined payment). */
function recordedField(saga: SagaState, steps: readonly OrderStep[], field: "payment_id" | "shipment_id"): string | null {
	for (const rec of saga.steps) {
		if (!meaningOf(steps, rec.name)?.records?.includes(field)) continue;
		const source = rec.status === "DONE" ? rec.result : rec.error?.data;
		const v = (source as Record<string, unknown> | undefined)?.[field];
		if (typeof v === "string") return v;
	}
	return null;
}

function compensationReason(saga: SagaState): string {
	if (saga.abort_reason) return `undoing the saga: ${saga.abort_reason.toLowerCase()} requested`;
	return `${saga.failed_step ?? "a step"} failed: ${saga.error?.message ?? "unknown error"}`;
}

/** The order after the saga state is taken into account, with the meaning its steps declare. */
export function applySagaProgress<T extends ProgressFields>(order: T, saga: SagaState, at: string, steps: readonly OrderStep[] = ORDER_STEPS): T {
	let o: T = { ...order };
	o.payment_id = recordedField(saga, steps, "payment_id") ?? o.payment_id;
	o.shipment_id = recordedField(saga, steps, "shipment_id") ?? o.shipment_id;
	if (isTerminal(o.status)) return o;

	if (saga.status === "RUNNING" || saga.status === "COMPLETED") {
		for (const step of saga.steps) {
			const target = meaningOf(steps, step.name)?.success;
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
	return transition(o, "FAILED", { at, reason: compensationReason(saga), failureReason: failureOf(saga, steps).reason });
}
