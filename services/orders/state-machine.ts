/**
 * The order state machine as a pure finite state machine: legal transitions only,
 * each one appended to the order's history with its time and reason.
 *
 *   PENDING → PAID → STOCK_RESERVED → SHIPPED → DELIVERED
 *      │        │           │
 *      └────────┴───────────┴──→ COMPENSATING ──→ FAILED (failure_reason) | CANCELLED
 *   PENDING ──→ FAILED (nothing to undo) | CANCELLED (nothing to undo)
 */

export const ORDER_STATUSES = [
	"PENDING",
	"PAID",
	"STOCK_RESERVED",
	"SHIPPED",
	"DELIVERED",
	"COMPENSATING",
	"FAILED",
	"CANCELLED",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const FAILURE_REASONS = ["VOUCHER_UNAVAILABLE", "PAYMENT_ERROR", "OUT_OF_STOCK", "INVENTORY_UNAVAILABLE", "SHIPPING_ERROR"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface HistoryEntry {
	status: OrderStatus;
	at: string;
	reason: string | null;
}

/** The part of an order the machine looks after. */
export interface OrderState {
	status: OrderStatus;
	failure_reason: FailureReason | null;
	history: HistoryEntry[];
}

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
	PENDING: ["PAID", "COMPENSATING", "FAILED", "CANCELLED"],
	PAID: ["STOCK_RESERVED", "COMPENSATING"],
	STOCK_RESERVED: ["SHIPPED", "COMPENSATING"],
	SHIPPED: ["DELIVERED"],
	DELIVERED: [],
	COMPENSATING: ["FAILED", "CANCELLED"],
	FAILED: [],
	CANCELLED: [],
};

/** The happy path, in order. */
export const FORWARD: readonly OrderStatus[] = ["PENDING", "PAID", "STOCK_RESERVED", "SHIPPED", "DELIVERED"];

export class IllegalTransitionError extends Error {
	constructor(
		readonly from: OrderStatus,
		readonly to: OrderStatus,
	) {
		super(`an order cannot go from ${from} to ${to}`);
		this.name = "IllegalTransitionError";
	}
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
	return TRANSITIONS[from].includes(to);
}

/** No transition leaves these. */
export function isTerminal(status: OrderStatus): boolean {
	return TRANSITIONS[status].length === 0;
}

/** Whether the customer may still cancel (nothing has shipped). */
export function isCancellable(status: OrderStatus): boolean {
	return status === "PENDING" || status === "PAID" || status === "STOCK_RESERVED";
}

export interface TransitionOptions {
	at: string;
	reason?: string | null;
	/** Required when going to FAILED. */
	failureReason?: FailureReason;
}

/** The order after one legal transition (a new object); throws IllegalTransitionError otherwise. */
export function transition<T extends OrderState>(order: T, to: OrderStatus, opts: TransitionOptions): T {
	if (!canTransition(order.status, to)) throw new IllegalTransitionError(order.status, to);
	if (to === "FAILED" && !opts.failureReason) throw new Error("a FAILED order needs a failure reason");
	return {
		...order,
		status: to,
		failure_reason: to === "FAILED" ? (opts.failureReason as FailureReason) : null,
		history: [...order.history, { status: to, at: opts.at, reason: opts.reason ?? null }],
	};
}

/**
 * Walks the happy path up to `target`, one transition per status. An order already at or past the target
 * is returned unchanged (so repeated events are harmless); one off the happy path is an illegal transition.
 */
export function advanceTo<T extends OrderState>(order: T, target: OrderStatus, opts: TransitionOptions): T {
	const goal = FORWARD.indexOf(target);
	if (goal < 0) throw new Error(`${target} is not on the happy path`);
	let current = FORWARD.indexOf(order.status);
	if (current < 0) throw new IllegalTransitionError(order.status, target);
	let out = order;
	while (current < goal) {
		current += 1;
		out = transition(out, FORWARD[current], { ...opts, reason: current === goal ? opts.reason : "implied by a later step" });
	}
	return out;
}

/** A new order's state: PENDING with its first history entry. */
export function initialState(at: string, reason: string | null = "order placed"): OrderState {
	return { status: "PENDING", failure_reason: null, history: [{ status: "PENDING", at, reason }] };
}
