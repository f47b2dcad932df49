/**
 * The invariants of issue 5 as pure checks, shared by the command-line tools (test/tools/invariants.ts) and the
 * operations console's chaos playground (services/api/ops/chaos-run.ts):
 * - every order settles (SHIPPED waits for a carrier, so it counts as settled);
 * - one charge per order, and the money nets to its total when it shipped, to zero otherwise;
 * - stock is conserved: on hand before = on hand after + units shipped, and nothing stays reserved;
 * and of issue 16: every order rebuilds from its event stream with no difference (orders.rebuild).
 * Each check answers its violations, one sentence each.
 */

/** Statuses after which nothing happens without a customer, carrier or admin. */
export const SETTLED_STATUSES: ReadonlySet<string> = new Set(["SHIPPED", "DELIVERED", "FAILED", "CANCELLED"]);
/** Statuses of an order whose goods left the warehouse. */
export const SHIPPED_STATUSES: ReadonlySet<string> = new Set(["SHIPPED", "DELIVERED"]);
/** Payment statuses of a charge that was captured at some point (refunded or not). */
const EVER_CAPTURED = new Set(["CAPTURED", "REFUNDING", "REFUNDED"]);

export interface InvariantOrder {
	id: string;
	status: string;
	/** Decimal total, as the API shows it. */
	total: number;
	items: ReadonlyArray<{ product_id: string; quantity: number }>;
	/** Set when an admin refunded a shipped or delivered order: nothing stays charged. */
	refunded_at?: string | null;
}

export interface InvariantPayments {
	rows: ReadonlyArray<{ status: string }>;
	net_charged_cents: number;
}

export interface StockCount {
	on_hand: number;
	reserved: number;
}

/** An order that has not settled. */
export function settlementViolations(order: InvariantOrder): string[] {
	return SETTLED_STATUSES.has(order.status) ? [] : [`order ${order.id} is still ${order.status}`];
}

/** One charge per order, netting to the total of a shipped order and to zero for any other. */
export function moneyViolations(order: InvariantOrder, payments: InvariantPayments): string[] {
	const out: string[] = [];
	const charges = payments.rows.filter(p => EVER_CAPTURED.has(p.status)).length;
	if (charges > 1) out.push(`order ${order.id} was charged ${charges} times`);
	const expected = SHIPPED_STATUSES.has(order.status) && !order.refunded_at ? Math.round(order.total * 100) : 0;
	if (SETTLED_STATUSES.has(order.status) && payments.net_charged_cents !== expected)
		out.push(`order ${order.id} is ${order.status} but ${payments.net_charged_cents} cents are charged (expected ${expected})`);
	return out;
}

/** Units of each product in the shipped orders among `orders`. */
export function shippedUnits(orders: Iterable<InvariantOrder>): Map<string, number> {
	const out = new Map<string, number>();
	for (const o of orders)
		if (SHIPPED_STATUSES.has(o.status)) for (const i of o.items) out.set(i.product_id, (out.get(i.product_id) ?? 0) + i.quantity);
	return out;
}

/** Stock conserved per product: what left the shelf is what shipped, and the reservations are back where they were. */
export function stockViolations(before: ReadonlyMap<string, StockCount>, after: ReadonlyMap<string, StockCount>, shipped: ReadonlyMap<string, number>): string[] {
	const out: string[] = [];
	for (const [id, b] of before) {
		const a = after.get(id);
		if (!a) continue;
		const units = shipped.get(id) ?? 0;
		if (b.on_hand !== a.on_hand + units)
			out.push(`${id}: on hand ${b.on_hand} before, ${a.on_hand} after, ${units} shipped (off by ${b.on_hand - a.on_hand - units})`);
		if (a.reserved !== b.reserved) out.push(`${id}: ${a.reserved} reserved after the run, ${b.reserved} before`);
	}
	return out;
}

/** What orders.rebuild answers (services/orders/rebuild.ts). */
export interface RebuildReport {
	checked: number;
	differences: ReadonlyArray<{ order_id: string; field: string; stored: unknown; rebuilt: unknown }>;
	without_stream: number;
}

/** Every order rebuilds from its stream exactly: one sentence per differing field, and for orders with no stream. */
export function rebuildViolations(report: RebuildReport): string[] {
	const out = report.differences.map(d => `order ${d.order_id}: ${d.field} is ${JSON.stringify(d.stored)} but its stream rebuilds ${JSON.stringify(d.rebuilt)}`);
	if (report.without_stream > 0) out.push(`${report.without_stream} of ${report.checked} orders have no event stream`);
	return out;
}
