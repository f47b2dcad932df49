import { refundEntry, saleEntry, totalsOf } from "../../../../services/ledger/model";
import { lineAmounts, mergeShipments, toShopOrderView } from "../../../../services/orders/shops";
import { checkLedger } from "../../../tools/ledger-check";

const NOW = "2026-12-04T12:00:00.000Z";
const line = { shop_id: "s1", order_id: "o1", shipment_id: "p1", index: 0, product_id: "x", quantity: 2, amount_cents: 1999, currency: "USD" };

describe("ledger entries", () => {
	it("splits a line into commission (half-up) and net, and a refund negates it exactly", () => {
		const sale = saleEntry(line, 10, NOW);
		expect(sale).toMatchObject({ id: "sale:p1:0", kind: "SALE", amount_cents: 1999, commission_cents: 200, net_cents: 1799 });
		const refund = refundEntry(sale, NOW);
		expect(refund).toMatchObject({ id: "refund:p1:0", kind: "REFUND", amount_cents: -1999, commission_cents: -200, net_cents: -1799 });
		expect(totalsOf([sale, refund])).toEqual({ balance_cents: 0, sales_cents: 0, commission_cents: 0 });
		expect(saleEntry({ ...line, amount_cents: 5 }, 12.5, NOW)).toMatchObject({ commission_cents: 1, net_cents: 4 });
	});
});

describe("line amounts", () => {
	const bill = { subtotal_cents: 3000, discount_cents: 300, shipping_fee_cents: 500, tax_cents: 100, total_cents: 3300, tax_rate: 5, voucher: { code: "V", discount_cents: 300, free_shipping: false } };
	it("uses the discount shares checkout stored, which sum to the bill's discount", () => {
		const items = [
			{ product_id: "a", name: "A", price_cents: 1000, quantity: 1, shop_id: "s1", discount_cents: 300 },
			{ product_id: "b", name: "B", price_cents: 2000, quantity: 1, shop_id: "s2", discount_cents: 0 },
		];
		expect(lineAmounts({ items, bill })).toEqual([700, 2000]);
	});
	it("splits the discount in proportion when the order has no shares (older orders)", () => {
		const items = [
			{ product_id: "a", name: "A", price_cents: 1000, quantity: 1 },
			{ product_id: "b", name: "B", price_cents: 2000, quantity: 1 },
		];
		expect(lineAmounts({ items, bill })).toEqual([900, 1800]);
	});
	it("shows a shop only its own lines and no payment details", () => {
		const doc = {
			id: "o1",
			status: "SHIPPED" as const,
			currency: "USD",
			shipping_address: { street: "1 St" },
			items: [
				{ product_id: "a", name: "A", price_cents: 1000, quantity: 1, shop_id: "s1", discount_cents: 0 },
				{ product_id: "b", name: "B", price_cents: 2000, quantity: 1, shop_id: "s2", discount_cents: 0 },
			],
			shipments: [{ id: "p1", shop_id: "s1", status: "SHIPPED" }, { id: "p2", shop_id: "s2", status: "DELIVERED" }],
			history: [{ status: "PAID" as const, at: NOW, reason: "payment card-456 captured" }],
			created_at: NOW,
			updated_at: NOW,
		};
		const view = toShopOrderView(doc, "s2");
		expect(view.items.map(i => i.product_id)).toEqual(["b"]);
		expect(view).toMatchObject({ amount: 20, shipment: { id: "p2", status: "DELIVERED" } });
		expect(JSON.stringify(view)).not.toMatch(/card-456|payment/);
	});
	it("never moves a shipment's status back", () => {
		const cur = [{ id: "p1", shop_id: "s1", status: "DELIVERED" }];
		expect(mergeShipments(cur, [{ id: "p1", shop_id: "s1", status: "SHIPPED" }, { id: "p2", shop_id: "s2", status: "SHIPPED" }])).toEqual([
			{ id: "p1", shop_id: "s1", status: "DELIVERED" },
			{ id: "p2", shop_id: "s2", status: "SHIPPED" },
		]);
	});
});

describe("the ledger invariant", () => {
	const order = { id: "o1", status: "SHIPPED", items: [{ shop_id: "s1", amount: 7 }, { shop_id: "s2", amount: 20 }], shipments: [{ shop_id: "s1", status: "DELIVERED" }, { shop_id: "s2", status: "SHIPPED" }] };
	const entry = (shop: string, amount: number, commission: number) => ({ order_id: "o1", shop_id: shop, amount_cents: amount, commission_cents: commission, net_cents: amount - commission });
	it("holds when each delivered line is booked once", () => {
		expect(checkLedger([order], [{ shop_id: "s1", balance_cents: 630, entries: [entry("s1", 700, 70)] }])).toEqual([]);
	});
	it("reports a line booked twice, a line of an undelivered parcel, a wrong balance and a refunded order still booked", () => {
		expect(checkLedger([order], [{ shop_id: "s1", balance_cents: 1260, entries: [entry("s1", 700, 70), entry("s1", 700, 70)] }]).join("\n")).toMatch(/ledger holds 1400 cents, customers paid 700/);
		expect(checkLedger([order], [{ shop_id: "s2", balance_cents: 1800, entries: [entry("s2", 2000, 200)] }]).join("\n")).toMatch(/shop s2: ledger holds 2000/);
		expect(checkLedger([order], [{ shop_id: "s1", balance_cents: 1, entries: [entry("s1", 700, 70)] }]).join("\n")).toMatch(/balance 1 cents, its entries sum to 630/);
		expect(checkLedger([{ ...order, refunded_at: NOW }], [{ shop_id: "s1", balance_cents: 630, entries: [entry("s1", 700, 70)] }]).length).toBeGreaterThan(0);
	});
});
