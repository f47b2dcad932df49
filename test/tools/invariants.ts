/**
 * The invariants of issue 5, checked through the REST API after a load run: every order settles, the money
 * charged for it matches its outcome, and stock balances with what was shipped; and of issue 15: the sellers'
 * ledgers add up (test/tools/ledger-check.ts).
 */
import { moneyViolations, settlementViolations, SETTLED_STATUSES, shippedUnits, stockViolations } from "../../services/common/chaos-invariants";
import { request, stockLevels, type Customer, type StockLevels } from "./http-client";
import { checkLedger, type ShopLedger } from "./ledger-check";

/** Statuses after which nothing happens without a customer, carrier or admin (SHIPPED waits for delivery). */
export const SETTLED = SETTLED_STATUSES;

export interface OrderView {
	id: string;
	user_id: string;
	status: string;
	failure_reason: string | null;
	items: Array<{ product_id: string; quantity: number; shop_id?: string; amount?: number }>;
	total: number;
	/** One per shop of its lines. */
	shipments?: Array<{ id: string; shop_id: string; status: string }>;
	/** Set when an admin refunded the shipped order. */
	refunded_at?: string | null;
	/** The voucher the order redeemed, when it had one. */
	voucher?: { code: string; discount: number };
	payment_id: string | null;
	history?: Array<{ status: string; at: string; reason: string | null }>;
}

/** Every order the given customers have, read with their own tokens (all pages). */
export async function ordersOf(base: string, customers: Customer[]): Promise<Map<string, OrderView>> {
	const out = new Map<string, OrderView>();
	await inBatches(customers, 8, async c => {
		for (let page = 1; page < 1000; page++) {
			const res = await request<{ rows: OrderView[]; total_pages: number }>(base, "GET", `/api/v1/orders?page=${page}&page_size=100`, { token: c.token });
			if (res.status !== 200) throw new Error(`GET /orders for ${c.email} answered ${res.status}`);
			for (const o of res.body.rows) out.set(o.id, o);
			if (page >= res.body.total_pages) break;
		}
	});
	return out;
}

/** Polls GET /orders/:id (admin) until every order is settled or the time is up; returns the last views. */
export async function waitUntilSettled(base: string, adminToken: string, ids: string[], timeoutMs: number, onProgress?: (pending: number) => void): Promise<Map<string, OrderView>> {
	const views = new Map<string, OrderView>();
	let pending = [...ids];
	const deadline = Date.now() + timeoutMs;
	while (pending.length > 0) {
		await inBatches(pending, 16, async id => {
			const res = await request<OrderView>(base, "GET", `/api/v1/orders/${encodeURIComponent(id)}`, { token: adminToken });
			if (res.status === 200) views.set(id, res.body);
		});
		pending = pending.filter(id => !SETTLED.has(views.get(id)?.status ?? ""));
		onProgress?.(pending.length);
		if (pending.length === 0 || Date.now() > deadline) break;
		await new Promise(r => setTimeout(r, 1000));
	}
	return views;
}

/** An order's payments as payments records them (GET /payments?order_id=): also a charge the order does not name. */
export interface OrderPayments {
	rows: Array<{ id: string; status: string; refunded_cents?: number }>;
	net_charged_cents: number;
}

/** Every payment of an order, or null when they cannot be read. */
export async function paymentsOf(base: string, adminToken: string, orderId: string): Promise<OrderPayments | null> {
	const res = await request<OrderPayments>(base, "GET", `/api/v1/payments?order_id=${encodeURIComponent(orderId)}`, { token: adminToken });
	return res.status === 200 ? res.body : null;
}

/** Stock of each product, before or after the run. */
export async function stockSnapshot(base: string, adminToken: string, productIds: string[]): Promise<Map<string, StockLevels>> {
	const out = new Map<string, StockLevels>();
	await inBatches(productIds, 8, async id => {
		out.set(id, await stockLevels(base, adminToken, id));
	});
	return out;
}

/** Checks every invariant and returns the violations, one sentence each. */
export async function checkInvariants(opts: {
	base: string;
	adminToken: string;
	orders: Map<string, OrderView>;
	/** Orders whose checkout answered with an id: each must exist. */
	acceptedIds: string[];
	before: Map<string, StockLevels>;
	after: Map<string, StockLevels>;
}): Promise<string[]> {
	const violations: string[] = [];
	for (const id of opts.acceptedIds) if (!opts.orders.has(id)) violations.push(`order ${id} was answered by checkout but cannot be read back`);
	await inBatches([...opts.orders.values()], 16, async order => {
		violations.push(...settlementViolations(order));
		const payments = await paymentsOf(opts.base, opts.adminToken, order.id);
		if (payments === null) violations.push(`order ${order.id}: its payments cannot be read`);
		else violations.push(...moneyViolations(order, payments));
	});
	violations.push(...stockViolations(opts.before, opts.after, shippedUnits(opts.orders.values())));
	violations.push(...(await ledgerViolations(opts.base, opts.adminToken, [...opts.orders.values()])));
	return violations;
}

/** Every shop's ledger (all pages of its entries), read as the admin; null when a shop's cannot be read. */
export async function shopLedgers(base: string, adminToken: string): Promise<ShopLedger[] | null> {
	const shops: string[] = [];
	for (let page = 1; page < 100; page++) {
		const res = await request<{ rows: Array<{ id: string }>; total_pages: number }>(base, "GET", `/api/v1/shops?page=${page}&page_size=100`, { token: adminToken });
		if (res.status !== 200) return null;
		shops.push(...res.body.rows.map(r => r.id));
		if (page >= res.body.total_pages) break;
	}
	const out: ShopLedger[] = [];
	for (const shop of shops) {
		const ledger: ShopLedger = { shop_id: shop, balance_cents: 0, entries: [] };
		for (let page = 1; page < 10_000; page++) {
			type Body = { balance: number; entries: Array<{ order_id: string; amount: number; commission: number; net: number }>; total_pages: number };
			const res = await request<Body>(base, "GET", `/api/v1/shops/${encodeURIComponent(shop)}/balance?page=${page}&page_size=100`, { token: adminToken });
			if (res.status !== 200) return null;
			ledger.balance_cents = Math.round(res.body.balance * 100);
			for (const e of res.body.entries)
				ledger.entries.push({ order_id: e.order_id, shop_id: shop, amount_cents: Math.round(e.amount * 100), commission_cents: Math.round(e.commission * 100), net_cents: Math.round(e.net * 100) });
			if (page >= res.body.total_pages) break;
		}
		out.push(ledger);
	}
	return out;
}

/** The ledger invariant, given the ledger's consumers up to 15 s to catch up with the last deliveries. */
export async function ledgerViolations(base: string, adminToken: string, orders: OrderView[], waitMs = 15_000): Promise<string[]> {
	const deadline = Date.now() + waitMs;
	const current = new Map(orders.map(o => [o.id, o]));
	for (;;) {
		const ledgers = await shopLedgers(base, adminToken);
		const violations = ledgers ? checkLedger([...current.values()], ledgers) : ["ledger: the shops' balances cannot be read"];
		if (violations.length === 0 || Date.now() > deadline) return violations;
		await new Promise(r => setTimeout(r, 1000));
		// A SHIPPED order may have been delivered since it was read (a carrier's delay): read those again.
		await inBatches([...current.values()].filter(o => o.status === "SHIPPED"), 16, async o => {
			const res = await request<OrderView>(base, "GET", `/api/v1/orders/${encodeURIComponent(o.id)}`, { token: adminToken });
			if (res.status === 200) current.set(o.id, res.body);
		});
	}
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
	for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
