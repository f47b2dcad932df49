import { NO_FEES } from "../../../../services/common/bill";
import { cartId, parseCart, priceCart, pricedLines, quantityOf, setQuantity, subtractLines, type StoredCart } from "../../../../services/cart/model";

const now = new Date(0);
const rows = [
	{ id: "laptop-123", name: "Laptop", price_cents: 99999, currency: "USD", active: true },
	{ id: "mouse-1", name: "Mouse", price_cents: 1999, currency: "USD", active: true },
	{ id: "old-1", name: "Old", price_cents: 100, currency: "USD", active: false },
];

describe("cart model", () => {
	it("reads a missing or unreadable cart as empty", () => {
		expect(parseCart(null).items).toEqual([]);
		expect(parseCart("{nope").items).toEqual([]);
		expect(parseCart(JSON.stringify({ items: [{ product_id: "a", quantity: 2 }, { product_id: "b", quantity: -1 }] })).items).toEqual([
			{ product_id: "a", quantity: 2 },
		]);
	});

	it("sets, adds and removes lines, keeping the order of first addition", () => {
		let cart: StoredCart = parseCart(null);
		cart = setQuantity(cart, "a", 1, now);
		cart = setQuantity(cart, "b", 2, now);
		cart = setQuantity(cart, "a", 3, now);
		expect(cart.items).toEqual([
			{ product_id: "a", quantity: 3 },
			{ product_id: "b", quantity: 2 },
		]);
		expect(quantityOf(setQuantity(cart, "a", 0, now), "a")).toBe(0);
	});

	it("takes only what an order bought out of the cart", () => {
		const cart = { items: [{ product_id: "a", quantity: 3 }, { product_id: "b", quantity: 1 }], updated_at: null };
		expect(subtractLines(cart, [{ product_id: "a", quantity: 2 }, { product_id: "b", quantity: 1 }], now).items).toEqual([{ product_id: "a", quantity: 1 }]);
	});

	it("prices lines at catalog prices in decimal money with a subtotal", () => {
		const cart = { items: [{ product_id: "laptop-123", quantity: 2 }, { product_id: "mouse-1", quantity: 3 }], updated_at: null };
		expect(priceCart("u1", pricedLines(cart, rows), null, NO_FEES, null)).toEqual({
			id: cartId("u1"),
			user_id: "u1",
			items: [
				{ product_id: "laptop-123", name: "Laptop", price: 999.99, quantity: 2, line_total: 1999.98 },
				{ product_id: "mouse-1", name: "Mouse", price: 19.99, quantity: 3, line_total: 59.97 },
			],
			subtotal: 2059.95,
			discount: 0,
			shipping_fee: 0,
			tax: 0,
			tax_rate: 0,
			total: 2059.95,
			currency: "USD",
			unavailable: [],
			country: null,
		});
	});

	it("bills a cart with a voucher covering one line, shipping and the destination's tax", () => {
		const cart = { items: [{ product_id: "mouse-1", quantity: 2 }, { product_id: "laptop-123", quantity: 1 }], updated_at: null, voucher: "MICE" };
		const quote = { voucher: { code: "MICE", type: "percent" as const, value: 25 }, eligible: [true, false] };
		const settings = { shipping: { flat_fee: 5, free_over: null }, tax: { default_rate: 10, rates: { FR: 20 } } };
		// 39.98 − 25% of it (9.995 → 10.00) + 999.99 = 1029.97; shipping 5; tax 20%: 5.996 → 6.00, 199.998 → 200.00, 1.00.
		expect(priceCart("u1", pricedLines(cart, rows), quote, settings, "fr")).toMatchObject({
			subtotal: 1039.97,
			discount: 10,
			shipping_fee: 5,
			tax: 207,
			total: 1241.97,
			voucher: { code: "MICE", discount: 10 },
		});
	});

	it("lists lines whose product is gone or inactive as unavailable and leaves them out of the subtotal", () => {
		const cart = { items: [{ product_id: "gone", quantity: 1 }, { product_id: "old-1", quantity: 1 }, { product_id: "mouse-1", quantity: 1 }], updated_at: null };
		const view = priceCart("u1", pricedLines(cart, rows), null, NO_FEES, null);
		expect(view.subtotal).toBe(19.99);
		expect(view.unavailable.map(l => l.product_id)).toEqual(["gone", "old-1"]);
	});

	it("counts the subtotal in cents of the sellable lines only, and Infinity rather than a rounded sum beyond safe integers", () => {
		const cart = { items: [{ product_id: "old-1", quantity: 1 }, { product_id: "laptop-123", quantity: 2 }], updated_at: null };
		expect(pricedLines(cart, rows)).toMatchObject({ currency: "USD", subtotal_cents: 199998, unavailable: [{ product_id: "old-1", quantity: 1 }] });
		const huge = [{ id: "h", name: "Huge", price_cents: Number.MAX_SAFE_INTEGER, currency: "USD", active: true }];
		expect(pricedLines({ items: [{ product_id: "h", quantity: 2 }], updated_at: null }, huge).subtotal_cents).toBe(Number.POSITIVE_INFINITY);
	});
});
