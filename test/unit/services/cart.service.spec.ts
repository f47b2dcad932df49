import type { ServiceBroker } from "moleculer";
import CartService from "../../../services/cart.service";
import { startShop, type Shop } from "../../helpers/shop";

/** Stand-ins for the catalog's services, with the contract's action names (this test is about the cart only). */
const catalog: Record<string, { name: string; price_cents: number; active: boolean; available: number }> = {
	"laptop-123": { name: "Laptop", price_cents: 99999, active: true, available: 5 },
	"mouse-1": { name: "Mouse", price_cents: 1999, active: true, available: 1000 },
	retired: { name: "Retired", price_cents: 100, active: false, available: 10 },
};
const fakeProducts = {
	name: "products",
	actions: {
		getMany: {
			handler(ctx: { params: { ids: string[] } }) {
				return { rows: ctx.params.ids.filter(id => catalog[id]).map(id => ({ id, currency: "USD", ...catalog[id] })) };
			},
		},
	},
};
const fakeInventory = {
	name: "inventory",
	actions: {
		availability: {
			handler(ctx: { params: { items: Array<{ product_id: string; quantity: number }> } }) {
				const items = ctx.params.items.map(i => {
					const available = catalog[i.product_id]?.available ?? 0;
					return { product_id: i.product_id, requested: i.quantity, available, ok: available >= i.quantity };
				});
				return { ok: items.every(i => i.ok), items };
			},
		},
	},
};

const as = (id: string) => ({ meta: { user: { id, email: `${id}@example.com`, name: id, role: "customer" } } });

describe("cart service", () => {
	let shop: Shop;
	let broker: ServiceBroker;

	beforeAll(async () => {
		shop = await startShop([], { NAMESPACE: `t-cart-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		broker.createService(CartService);
		broker.createService(fakeProducts);
		broker.createService(fakeInventory);
		await broker.waitForServices(["cart", "products", "inventory"]);
	});
	afterAll(() => shop.stop());

	it("starts empty with a bill of 0", async () => {
		await expect(broker.call("cart.get", {}, as("empty"))).resolves.toEqual({
			id: "cart_empty",
			user_id: "empty",
			items: [],
			subtotal: 0,
			discount: 0,
			shipping_fee: 0,
			tax: 0,
			tax_rate: 0,
			total: 0,
			currency: "USD",
			unavailable: [],
			country: null,
		});
	});

	it("adds products, merges repeated adds, and shows current prices with line totals and subtotal", async () => {
		await broker.call("cart.add", { product_id: "laptop-123", quantity: 1 }, as("ann"));
		await broker.call("cart.add", { product_id: "mouse-1", quantity: 2 }, as("ann"));
		const cart = await broker.call("cart.add", { product_id: "laptop-123", quantity: 1 }, as("ann"));
		expect(cart).toMatchObject({
			user_id: "ann",
			items: [
				{ product_id: "laptop-123", name: "Laptop", price: 999.99, quantity: 2, line_total: 1999.98 },
				{ product_id: "mouse-1", name: "Mouse", price: 19.99, quantity: 2, line_total: 39.98 },
			],
			subtotal: 2039.96,
			currency: "USD",
		});
	});

	it("prices the cart at the catalog's price of the moment", async () => {
		await broker.call("cart.add", { product_id: "mouse-1", quantity: 1 }, as("price-watcher"));
		catalog["mouse-1"].price_cents = 2499;
		try {
			await expect(broker.call("cart.get", {}, as("price-watcher"))).resolves.toMatchObject({ items: [{ price: 24.99, line_total: 24.99 }], subtotal: 24.99 });
		} finally {
			catalog["mouse-1"].price_cents = 1999;
		}
	});

	it.each([0, -1, 2.5, 101, "2"])("refuses quantity %p with 422 naming the field", async quantity => {
		await expect(broker.call("cart.add", { product_id: "mouse-1", quantity }, as("bad-qty"))).rejects.toMatchObject({
			code: 422,
			data: [expect.objectContaining({ field: "quantity" })],
		});
		await expect(broker.call("cart.get", {}, as("bad-qty"))).resolves.toMatchObject({ items: [] });
	});

	it("answers 404 for an unknown or retired product", async () => {
		await expect(broker.call("cart.add", { product_id: "nope", quantity: 1 }, as("x"))).rejects.toMatchObject({ code: 404, type: "PRODUCT_NOT_FOUND" });
		await expect(broker.call("cart.add", { product_id: "retired", quantity: 1 }, as("x"))).rejects.toMatchObject({ code: 404 });
	});

	it("refuses more than inventory has with 409 INSUFFICIENT_STOCK naming what is available, counting what is already in the cart", async () => {
		await broker.call("cart.add", { product_id: "laptop-123", quantity: 4 }, as("greedy"));
		await expect(broker.call("cart.add", { product_id: "laptop-123", quantity: 2 }, as("greedy"))).rejects.toMatchObject({
			code: 409,
			type: "INSUFFICIENT_STOCK",
			data: { product_id: "laptop-123", requested: 6, available: 5 },
		});
		await expect(broker.call("cart.get", {}, as("greedy"))).resolves.toMatchObject({ items: [{ quantity: 4 }] });
	});

	it("updates a line's quantity, removes it at 0, and answers 404 for a product not in the cart", async () => {
		await broker.call("cart.add", { product_id: "mouse-1", quantity: 1 }, as("upd"));
		await expect(broker.call("cart.update", { product_id: "mouse-1", quantity: 7 }, as("upd"))).resolves.toMatchObject({ items: [{ quantity: 7 }] });
		await expect(broker.call("cart.update", { product_id: "laptop-123", quantity: 9 }, as("upd"))).rejects.toMatchObject({ code: 404 });
		await broker.call("cart.add", { product_id: "laptop-123", quantity: 1 }, as("upd"));
		await expect(broker.call("cart.update", { product_id: "laptop-123", quantity: 6 }, as("upd"))).rejects.toMatchObject({ code: 409 });
		await expect(broker.call("cart.update", { product_id: "mouse-1", quantity: 0 }, as("upd"))).resolves.toMatchObject({
			items: [{ product_id: "laptop-123" }],
		});
	});

	it("removes one product and clears the whole cart", async () => {
		await broker.call("cart.add", { product_id: "mouse-1", quantity: 1 }, as("rm"));
		await broker.call("cart.add", { product_id: "laptop-123", quantity: 1 }, as("rm"));
		await expect(broker.call("cart.remove", { product_id: "mouse-1" }, as("rm"))).resolves.toMatchObject({ items: [{ product_id: "laptop-123" }] });
		await expect(broker.call("cart.remove", { product_id: "mouse-1" }, as("rm"))).rejects.toMatchObject({ code: 404 });
		await expect(broker.call("cart.clear", {}, as("rm"))).resolves.toMatchObject({ items: [], subtotal: 0 });
	});

	it("keeps every user's cart to that user, whatever user_id the request carries", async () => {
		await broker.call("cart.add", { product_id: "mouse-1", quantity: 3, user_id: "victim" }, as("mallory"));
		await expect(broker.call("cart.get", { user_id: "mallory" }, as("victim"))).resolves.toMatchObject({ user_id: "victim", items: [] });
		await expect(broker.call("cart.get", {}, as("mallory"))).resolves.toMatchObject({ items: [{ quantity: 3 }] });
	});

	it("answers 401 when no user comes with the call", async () => {
		await expect(broker.call("cart.get", {})).rejects.toMatchObject({ code: 401 });
	});

	it("loses no line when many adds to one cart run at once", async () => {
		const ids = ["mouse-1", "laptop-123"];
		await Promise.all(Array.from({ length: 20 }, (_, i) => broker.call("cart.add", { product_id: ids[i % 2], quantity: 1 }, as("busy")).catch(() => null)));
		const cart = await broker.call<{ items: Array<{ product_id: string; quantity: number }> }, object>("cart.get", {}, as("busy"));
		expect(cart.items.find(i => i.product_id === "mouse-1")?.quantity).toBe(10);
		expect(cart.items.find(i => i.product_id === "laptop-123")?.quantity).toBe(5);
	});

	it("hands checkout the stored lines and takes out only what an order bought", async () => {
		await broker.call("cart.add", { product_id: "mouse-1", quantity: 3 }, as("buyer"));
		const cart = await broker.call<{ id: string; items: Array<{ product_id: string; quantity: number }> }, object>("cart.getForCheckout", { user_id: "buyer" });
		expect(cart).toEqual({ id: "cart_buyer", user_id: "buyer", items: [{ product_id: "mouse-1", quantity: 3 }], version: expect.stringMatching(/^[0-9a-f]{32}$/), voucher: null });
		await broker.call("cart.add", { product_id: "laptop-123", quantity: 1 }, as("buyer"));
		await broker.call("cart.clearFor", { user_id: "buyer", items: cart.items });
		await expect(broker.call("cart.getForCheckout", { user_id: "buyer" })).resolves.toMatchObject({ items: [{ product_id: "laptop-123", quantity: 1 }] });
		await broker.call("cart.clearFor", { user_id: "buyer" });
		await expect(broker.call("cart.getForCheckout", { user_id: "buyer" })).resolves.toMatchObject({ items: [] });
	});
});

describe("cart service on Redis", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop([], { NAMESPACE: `t-cart-redis-${Date.now()}-${Math.random()}`, REDIS_URL: "redis://127.0.0.1:6379" });
		shop.broker.createService(CartService);
		shop.broker.createService(fakeProducts);
		shop.broker.createService(fakeInventory);
		await shop.broker.waitForServices(["cart", "products", "inventory"]);
	});
	afterAll(() => shop.stop());

	it("keeps the cart in Redis under the user's key with ids and quantities only", async () => {
		const user = `redis-${Math.random()}`;
		await shop.broker.call("cart.add", { product_id: "mouse-1", quantity: 2 }, as(user));
		const cart = shop.broker.getLocalService("cart") as unknown as { kv: { kind: string; get(k: string): Promise<string | null> } };
		expect(cart.kv.kind).toBe("redis");
		const stored = JSON.parse((await cart.kv.get(`cart:${user}`)) ?? "null");
		expect(stored.items).toEqual([{ product_id: "mouse-1", quantity: 2 }]);
		await expect(shop.broker.call("cart.get", {}, as(user))).resolves.toMatchObject({ items: [{ product_id: "mouse-1", quantity: 2, price: 19.99 }] });
	});
});
