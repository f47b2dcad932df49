/**
 * The sellers' ledger invariant (issue 15), shared by the crash test, loadgen and the chaos checker: every shop's
 * balance is the sum of its entries' net, every entry's amount is its net plus its commission, and for every order
 * and shop the entries' amounts add up to what the customer paid for that shop's delivered lines (each line's
 * amount: its total after its share of the discount; shipping fee and tax are not the shops'), nothing for an
 * order that was refunded. So the sum over all shops plus the commissions equals what customers paid for
 * delivered lines. Amounts in integer cents. Pure code.
 */

export interface LedgerOrder {
	id: string;
	status: string;
	refunded_at?: string | null;
	items: Array<{ shop_id?: string; amount?: number }>;
	shipments?: Array<{ shop_id: string; status: string }>;
}

export interface LedgerEntry {
	order_id: string;
	shop_id: string;
	amount_cents: number;
	commission_cents: number;
	net_cents: number;
}

export interface ShopLedger {
	shop_id: string;
	balance_cents: number;
	entries: LedgerEntry[];
}

const cents = (n: number | undefined): number => Math.round((n ?? 0) * 100);

/** What each (order, shop) should have in the ledger: the amounts of the shop's delivered lines, 0 once refunded. */
export function expectedLedger(orders: LedgerOrder[]): Map<string, number> {
	const out = new Map<string, number>();
	for (const o of orders) {
		if (o.refunded_at) continue;
		const delivered = (shop: string): boolean =>
			o.status === "DELIVERED" || (o.shipments ?? []).some(s => s.shop_id === shop && s.status === "DELIVERED");
		for (const i of o.items) {
			const shop = i.shop_id ?? "shopflow";
			if (!delivered(shop)) continue;
			const key = `${o.id} ${shop}`;
			out.set(key, (out.get(key) ?? 0) + cents(i.amount));
		}
	}
	return out;
}

/** Every violation of the ledger invariant, one sentence each (at most 20 per kind). */
export function checkLedger(orders: LedgerOrder[], ledgers: ShopLedger[]): string[] {
	const violations: string[] = [];
	const actual = new Map<string, number>();
	let entriesTotal = 0;
	for (const l of ledgers) {
		const net = l.entries.reduce((s, e) => s + e.net_cents, 0);
		if (net !== l.balance_cents) violations.push(`shop ${l.shop_id}: balance ${l.balance_cents} cents, its entries sum to ${net}`);
		for (const e of l.entries) {
			if (e.amount_cents !== e.net_cents + e.commission_cents)
				violations.push(`shop ${l.shop_id}: an entry of order ${e.order_id} has amount ${e.amount_cents} != net ${e.net_cents} + commission ${e.commission_cents}`);
			const key = `${e.order_id} ${l.shop_id}`;
			actual.set(key, (actual.get(key) ?? 0) + e.amount_cents);
			entriesTotal += e.amount_cents;
		}
	}
	const expected = expectedLedger(orders);
	const known = new Set(orders.map(o => o.id));
	const mismatches: string[] = [];
	for (const key of new Set([...expected.keys(), ...actual.keys()])) {
		const [orderId, shop] = key.split(" ");
		// Entries of orders outside the run (earlier runs on the same store) are not judged.
		if (!known.has(orderId)) {
			entriesTotal -= actual.get(key) ?? 0;
			continue;
		}
		const want = expected.get(key) ?? 0;
		const got = actual.get(key) ?? 0;
		if (want !== got) mismatches.push(`order ${orderId}, shop ${shop}: ledger holds ${got} cents, customers paid ${want} for its delivered lines`);
	}
	violations.push(...mismatches.slice(0, 20));
	if (mismatches.length > 20) violations.push(`... and ${mismatches.length - 20} more ledger mismatches`);
	const paid = [...expected.values()].reduce((a, b) => a + b, 0);
	if (entriesTotal !== paid) violations.push(`ledger: shops' balances plus commissions make ${entriesTotal} cents, customers paid ${paid} for delivered lines`);
	return violations;
}
