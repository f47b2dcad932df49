/**
 * Stand-ins for payments, inventory and shipping with the contracts of COMMON.md and idempotent semantics,
 * for the orders tests (broker-level and crash). They keep their state in memory and log every call.
 */
import { Errors, type Context, type ServiceSchema } from "moleculer";
import { EventsMixin } from "../../mixins/events.mixin";
import { EVENTS } from "../../services/common/events";
import { payloadOf } from "../helpers/events";

export interface FakeState {
	/** "service.action order_id" for every call, in order. */
	log: string[];
	payments: Map<string, { id: string; key: string; order_id: string; amount_cents: number; status: "CAPTURED" | "REFUNDED" }>;
	/** Available units per product. */
	available: Map<string, number>;
	onHand: Map<string, number>;
	reservations: Map<string, { lines: Array<{ product_id: string; quantity: number }>; status: "RESERVED" | "COMMITTED" | "RELEASED" }>;
	shipments: Map<string, { id: string; status: "SHIPPED" | "CANCELLED" }>;
	/** Knobs. */
	delayMs: number;
	/** How many refunds fail (non-retryable 500, so only the saga engine retries them). */
	failRefunds: number;
	/** Street lines whose shipment is refused (business failure). */
	refuseStreets: Set<string>;
	/** When true, shipping.create answers a technical 500 after doing its work (lost answer). */
	loseShippingAnswers: boolean;
	/**
	 * When true, inventory.reserve does its work and loses the answer (a retryable timeout), and every later try
	 * finds no endpoint (SERVICE_NOT_AVAILABLE), as when the node died right after the reservation.
	 */
	reserveThenVanish: boolean;
}

export function newFakeState(stock: Record<string, number>, delayMs = 0): FakeState {
	return {
		log: [],
		payments: new Map(),
		available: new Map(Object.entries(stock)),
		onHand: new Map(Object.entries(stock)),
		reservations: new Map(),
		shipments: new Map(),
		delayMs,
		failRefunds: 0,
		refuseStreets: new Set(),
		loseShippingAnswers: false,
		reserveThenVanish: false,
	};
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
type P = Record<string, unknown>;

/** Net amount charged for an order (captured minus refunded), in cents. */
export function netCharged(state: FakeState, orderId: string): number {
	return [...state.payments.values()].filter(p => p.order_id === orderId && p.status === "CAPTURED").reduce((a, p) => a + p.amount_cents, 0);
}

export function fakeServices(state: FakeState): ServiceSchema[] {
	const note = async (what: string, p: P) => {
		state.log.push(`${what} ${String(p.order_id ?? p.payment_id ?? "")}`.trim());
		if (state.delayMs) await sleep(state.delayMs);
	};
	const payments: ServiceSchema = {
		name: "payments",
		actions: {
			charge: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("payments.charge", ctx.params);
					const p = ctx.params as { order_id: string; amount_cents: number; currency: string; token: string; idempotency_key: string };
					if (p.token === "card-declined") throw new Errors.MoleculerClientError("card declined", 402, "PAYMENT_DECLINED", { order_id: p.order_id });
					if (p.token === "card-error") throw new Errors.MoleculerRetryableError("gateway down", 503, "PAYMENT_GATEWAY_UNAVAILABLE");
					let pay = [...state.payments.values()].find(x => x.key === p.idempotency_key);
					if (!pay) {
						pay = { id: `pay_${state.payments.size + 1}_${p.order_id}`, key: p.idempotency_key, order_id: p.order_id, amount_cents: p.amount_cents, status: "CAPTURED" };
						state.payments.set(pay.id, pay);
					}
					return { payment_id: pay.id, order_id: p.order_id, status: "CAPTURED", amount_cents: pay.amount_cents, currency: p.currency };
				},
			},
			refund: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("payments.refund", ctx.params);
					if (state.failRefunds > 0) {
						state.failRefunds -= 1;
						throw new Errors.MoleculerError("refund store hiccup", 500, "INTERNAL_ERROR");
					}
					const pay = state.payments.get(String(ctx.params.payment_id));
					if (!pay) throw new Errors.MoleculerClientError("no such payment", 404, "PAYMENT_NOT_FOUND");
					pay.status = "REFUNDED";
					return { refund_id: `ref_${pay.id}`, payment_id: pay.id, status: "REFUNDED", amount_cents: pay.amount_cents };
				},
			},
			listByOrder: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("payments.listByOrder", ctx.params);
					const rows = [...state.payments.values()].filter(p => p.order_id === ctx.params.order_id);
					return { rows, net_charged_cents: netCharged(state, String(ctx.params.order_id)) };
				},
			},
		},
	};

	const inventory: ServiceSchema = {
		name: "inventory",
		actions: {
			reserve: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("inventory.reserve", ctx.params);
					const p = ctx.params as { order_id: string; items: Array<{ product_id: string; quantity: number }> };
					if (state.reserveThenVanish && state.reservations.has(p.order_id))
						throw new Errors.ServiceNotAvailableError({ action: "inventory.reserve", nodeID: "inventory-node" });
					const existing = state.reservations.get(p.order_id);
					if (existing && existing.status !== "RELEASED") return { order_id: p.order_id, status: "RESERVED", lines: existing.lines };
					if (existing) throw new Errors.MoleculerClientError("reservation was released", 409, "RESERVATION_RELEASED");
					for (const i of p.items)
						if ((state.available.get(i.product_id) ?? 0) < i.quantity)
							throw new Errors.MoleculerClientError(`Insufficient stock for '${i.product_id}'`, 409, "INSUFFICIENT_STOCK", { product_id: i.product_id });
					for (const i of p.items) state.available.set(i.product_id, (state.available.get(i.product_id) ?? 0) - i.quantity);
					state.reservations.set(p.order_id, { lines: p.items, status: "RESERVED" });
					if (state.reserveThenVanish) throw new Errors.RequestTimeoutError({ action: "inventory.reserve", nodeID: "inventory-node" });
					return { order_id: p.order_id, status: "RESERVED", lines: p.items };
				},
			},
			release: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("inventory.release", ctx.params);
					const r = state.reservations.get(String(ctx.params.order_id));
					if (!r) return { order_id: ctx.params.order_id, status: "NONE" };
					if (r.status !== "RELEASED") {
						for (const l of r.lines) {
							state.available.set(l.product_id, (state.available.get(l.product_id) ?? 0) + l.quantity);
							if (r.status === "COMMITTED") state.onHand.set(l.product_id, (state.onHand.get(l.product_id) ?? 0) + l.quantity);
						}
						r.status = "RELEASED";
					}
					return { order_id: ctx.params.order_id, status: "RELEASED" };
				},
			},
			commit: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					const r = state.reservations.get(String(ctx.params.order_id));
					if (r && r.status === "RESERVED") {
						for (const l of r.lines) state.onHand.set(l.product_id, (state.onHand.get(l.product_id) ?? 0) - l.quantity);
						r.status = "COMMITTED";
					}
					return { order_id: ctx.params.order_id, status: "COMMITTED" };
				},
			},
		},
	};

	const shipping: ServiceSchema = {
		name: "shipping",
		mixins: [EventsMixin()],
		actions: {
			create: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("shipping.create", ctx.params);
					const orderId = String(ctx.params.order_id);
					const street = (ctx.params.address as { street?: string } | undefined)?.street ?? "";
					if (state.refuseStreets.has(street)) throw new Errors.MoleculerClientError("carrier refuses the address", 422, "ADDRESS_UNDELIVERABLE");
					let s = state.shipments.get(orderId);
					if (s?.status === "CANCELLED") throw new Errors.MoleculerClientError("shipment cancelled", 409, "SHIPMENT_CANCELLED");
					if (!s) {
						s = { id: `shp_${orderId}`, status: "SHIPPED" };
						state.shipments.set(orderId, s);
						await ctx.call("inventory.commit", { order_id: orderId });
						await this.publish(ctx, EVENTS.ORDER_SHIPPED, payloadOf(EVENTS.ORDER_SHIPPED, { order_id: orderId, user_id: ctx.params.user_id, shipment_id: s.id }));
					}
					if (state.loseShippingAnswers) throw new Errors.MoleculerError("answer lost", 500, "INTERNAL_ERROR");
					return { shipment_id: s.id, order_id: orderId, tracking_number: `TRK-${orderId}`, carrier: "FAKE", status: "SHIPPED" };
				},
			},
			cancel: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await note("shipping.cancel", ctx.params);
					const orderId = String(ctx.params.order_id);
					const s = state.shipments.get(orderId);
					if (s) s.status = "CANCELLED";
					else state.shipments.set(orderId, { id: `shp_${orderId}`, status: "CANCELLED" });
					await ctx.call("inventory.release", { order_id: orderId, reason: "shipment cancelled" });
					return { order_id: orderId, status: "CANCELLED" };
				},
			},
			deliver: {
				visibility: "public",
				async handler(ctx: Context<P>) {
					await this.publish(ctx, EVENTS.ORDER_DELIVERED, payloadOf(EVENTS.ORDER_DELIVERED, { order_id: ctx.params.order_id, user_id: ctx.params.user_id, shipment_id: `shp_${String(ctx.params.order_id)}` }));
					return { ok: true };
				},
			},
		},
	};
	return [payments, inventory, shipping];
}

/** The customer of the saga tests. */
export const alice = { id: "u_alice", email: "a@example.com", name: "Alice", role: "customer" as const };

/** An order's input for orders.create, paid with a card that succeeds; `over` replaces fields. */
export function orderInput(over: Record<string, unknown> = {}) {
	return {
		user_id: alice.id,
		items: [
			{ product_id: "laptop-123", name: "Laptop", price_cents: 99_999, quantity: 1 },
			{ product_id: "mouse-1", name: "Mouse", price_cents: 2_550, quantity: 2 },
		],
		currency: "USD",
		shipping_address: { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" },
		payment: { token: "card-456", method_id: null },
		...over,
	};
}

/** Polls `check` every 25 ms until it holds, or fails after `ms`. */
export const waitFor = async (check: () => Promise<boolean>, ms = 10_000): Promise<void> => {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not met in time");
		await new Promise(r => setTimeout(r, 25));
	}
};
