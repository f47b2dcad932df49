/**
 * Per-shop fulfilment and the sellers' ledger through the gateway, every service in one broker: a two-shop order
 * gets two shipments and is DELIVERED only after both owners deliver; each owner sees only its lines of the order
 * and its balance (403/404 on the other shop's orders, shipments and balance); the ledger counts each delivered
 * line once (amount - commission), and an admin refund reverses it.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

interface ShopBody {
	id: string;
}
interface Ref {
	id: string;
	shop_id: string;
	status: string;
}
interface OrderBody {
	id: string;
	status: string;
	total: number;
	items: Array<{ product_id: string; shop_id: string; amount: number }>;
	shipment_id: string;
	shipments: Ref[];
	refunded_at: string | null;
}
interface ShopOrder {
	id: string;
	status: string;
	items: Array<{ product_id: string; amount: number }>;
	shipping_address: unknown;
	shipment: Ref | null;
	[key: string]: unknown;
}
interface Entry {
	id: string;
	kind: string;
	order_id: string;
	amount: number;
	commission: number;
	net: number;
}
interface Balance {
	shop_id: string;
	balance: number;
	sales: number;
	commission: number;
	entries: Entry[];
	total: number;
}

const SERVICES = ["api", "users", "products", "search", "inventory", "reviews", "shops", "cart", "checkout", "orders", "payments", "shipping", "settings", "ledger"] as const;
const ADDRESS = { street: "1 Market St", city: "Springfield", postal_code: "12345", country: "US" };
const cents = (n: number) => Math.round(n * 100);

/** `fn`'s answer once it stops throwing (an assertion that holds), within eventually's time. */
async function until<T>(fn: () => Promise<T>): Promise<T> {
	let out: T | undefined;
	await eventually(async () => {
		out = await fn();
	});
	return out as T;
}

describe("per-shop fulfilment and the ledger through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let alice: { token: string; id: string };
	let bob: { token: string; id: string };
	let buyer: { token: string; id: string };
	let aliceShop: string;
	let bobShop: string;
	let aliceProduct: string;
	let bobProduct: string;
	const tag = Math.random().toString(36).slice(2, 8);

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	async function openShop(token: string, name: string): Promise<string> {
		const res = await api<ShopBody>("POST", "/shops", { token, body: { name } });
		expect(res.status).toBe(201);
		expect((await api("POST", `/admin/shops/${res.body.id}/approve`, { token: admin })).status).toBe(200);
		return res.body.id;
	}

	async function product(token: string, shopId: string, name: string, price: number): Promise<string> {
		const res = await api<{ id: string }>("POST", `/shops/${shopId}/products`, { token, body: { name, brand: `Brand${tag}`, category: "gadgets", price } });
		expect(res.status).toBe(201);
		expect((await api("PUT", `/inventory/${res.body.id}`, { token, body: { warehouse_id: "wh-1", on_hand: 50 } })).status).toBe(200);
		return res.body.id;
	}

	/** Places an order of one unit of each product (2 of Alice's), as the buyer. */
	async function placeOrder(): Promise<OrderBody> {
		expect((await api("POST", "/cart/add", { token: buyer.token, body: { product_id: aliceProduct, quantity: 2 } })).status).toBe(200);
		expect((await api("POST", "/cart/add", { token: buyer.token, body: { product_id: bobProduct, quantity: 1 } })).status).toBe(200);
		const res = await api<{ order: OrderBody }>("POST", "/checkout", { token: buyer.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(res.status).toBe(201);
		return res.body.order;
	}

	const order = async (id: string): Promise<OrderBody> => (await api<OrderBody>("GET", `/orders/${id}`, { token: buyer.token })).body;
	const balance = async (shopId: string, token: string): Promise<Balance> => {
		const res = await api<Balance>("GET", `/shops/${shopId}/balance?page_size=100`, { token });
		expect(res.status).toBe(200);
		return res.body;
	};

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-shop-fulfil-${Date.now()}-${Math.random()}` });
		admin = await loginAdmin(shop.url, shop.config);
		[alice, bob, buyer] = await Promise.all([registerCustomer(shop.url), registerCustomer(shop.url), registerCustomer(shop.url)]);
		aliceShop = await openShop(alice.token, `Alice fulfil ${tag}`);
		bobShop = await openShop(bob.token, `Bob fulfil ${tag}`);
		aliceProduct = await product(alice.token, aliceShop, `Lamp ${tag}`, 19.99);
		bobProduct = await product(bob.token, bobShop, `Mug ${tag}`, 7.5);
	});
	afterAll(() => shop.stop());

	it("gives a two-shop order two shipments, DELIVERED only after both owners deliver, and keeps each shop to its own", async () => {
		const placed = await placeOrder();
		expect(placed.status).toBe("SHIPPED");
		const shipped = await until(async () => {
			const o = await order(placed.id);
			expect(o.shipments).toHaveLength(2);
			return o;
		});
		const byShop = new Map(shipped.shipments.map(s => [s.shop_id, s]));
		expect(byShop.get(aliceShop)?.status).toBe("SHIPPED");
		expect(byShop.get(bobShop)?.status).toBe("SHIPPED");
		const aliceShipment = byShop.get(aliceShop)!.id;
		const bobShipment = byShop.get(bobShop)!.id;
		expect(aliceShipment).not.toBe(bobShipment);

		// Each owner sees the order with its own lines only, the address, the statuses; no payment details.
		const aliceOrders = await api<{ rows: ShopOrder[]; total: number }>("GET", `/shops/${aliceShop}/orders`, { token: alice.token });
		expect(aliceOrders.status).toBe(200);
		const seen = aliceOrders.body.rows.find(r => r.id === placed.id);
		expect(seen?.items.map(i => i.product_id)).toEqual([aliceProduct]);
		expect(seen?.shipping_address).toMatchObject({ street: ADDRESS.street });
		expect(seen?.shipment?.id).toBe(aliceShipment);
		expect(JSON.stringify(seen)).not.toMatch(/payment|card-456|total/);

		// Another shop's orders, shipment and balance: 403 (or 404), for reads and writes; a buyer too.
		for (const [token, other, shipment] of [
			[alice.token, bobShop, bobShipment],
			[bob.token, aliceShop, aliceShipment],
			[buyer.token, aliceShop, aliceShipment],
		] as const) {
			expect([403, 404]).toContain((await api("GET", `/shops/${other}/orders`, { token })).status);
			expect([403, 404]).toContain((await api("GET", `/shops/${other}/balance`, { token })).status);
			expect([403, 404]).toContain((await api("POST", `/shops/${other}/shipments/${shipment}/deliver`, { token })).status);
		}
		// Its own shop's route with the other shop's parcel: 404, and nothing delivered.
		expect((await api("POST", `/shops/${aliceShop}/shipments/${bobShipment}/deliver`, { token: alice.token })).status).toBe(404);
		expect((await api("GET", `/shops/${aliceShop}/orders`)).status).toBe(401);

		const first = await api<Ref>("POST", `/shops/${aliceShop}/shipments/${aliceShipment}/deliver`, { token: alice.token });
		expect(first.status).toBe(200);
		expect(first.body.status).toBe("DELIVERED");
		// Delivering twice is fine.
		expect((await api<Ref>("POST", `/shops/${aliceShop}/shipments/${aliceShipment}/deliver`, { token: alice.token })).body.status).toBe("DELIVERED");
		await eventually(async () => expect((await order(placed.id)).shipments.find(s => s.shop_id === aliceShop)?.status).toBe("DELIVERED"));
		await new Promise(r => setTimeout(r, 300));
		expect((await order(placed.id)).status).toBe("SHIPPED");

		expect((await api("POST", `/shops/${bobShop}/shipments/${bobShipment}/deliver`, { token: bob.token })).status).toBe(200);
		const delivered = await until(async () => {
			const o = await order(placed.id);
			expect(o.status).toBe("DELIVERED");
			return o;
		});
		expect(delivered.shipments.every(s => s.status === "DELIVERED")).toBe(true);
	});

	it("writes each delivered line to its shop's ledger once (amount - commission), balances sum their entries, and a refund reverses them", async () => {
		const placed = await placeOrder();
		const o = await until(async () => {
			const v = await order(placed.id);
			expect(v.shipments).toHaveLength(2);
			return v;
		});
		// The admin's delivery of the whole shipment delivers every parcel (the operators' route still works).
		expect((await api("POST", `/shipments/${o.shipment_id}/deliver`, { token: admin })).status).toBe(200);
		await eventually(async () => expect((await order(placed.id)).status).toBe("DELIVERED"));

		const commission = ((await api<{ marketplace: { commission_percent: number } }>("GET", "/admin/settings", { token: admin })).body.marketplace?.commission_percent ?? 10) / 100;
		const amountOf = (shopId: string) => o.items.filter(i => i.shop_id === shopId).reduce((s, i) => s + cents(i.amount), 0);
		for (const [shopId, token] of [
			[aliceShop, alice.token],
			[bobShop, bob.token],
		] as const) {
			const b = await until(async () => {
				const v = await balance(shopId, token);
				expect(v.entries.filter(e => e.order_id === placed.id && e.kind === "SALE")).toHaveLength(1);
				return v;
			});
			const sale = b.entries.find(e => e.order_id === placed.id)!;
			expect(cents(sale.amount)).toBe(amountOf(shopId));
			expect(cents(sale.commission)).toBe(Math.round(amountOf(shopId) * commission));
			expect(cents(sale.net)).toBe(cents(sale.amount) - cents(sale.commission));
			expect(cents(b.balance)).toBe(b.entries.reduce((s, e) => s + cents(e.net), 0));
			expect(cents(b.sales)).toBe(cents(b.balance) + cents(b.commission));
			// The admin sees it too.
			expect(cents((await balance(shopId, admin)).balance)).toBe(cents(b.balance));
		}
		// The shops' sales add up to what the customer paid for the lines (the goods, without shipping fee and tax).
		const [a, b] = await Promise.all([balance(aliceShop, alice.token), balance(bobShop, bob.token)]);
		const forOrder = (x: Balance) => x.entries.filter(e => e.order_id === placed.id).reduce((s, e) => s + cents(e.amount), 0);
		expect(forOrder(a) + forOrder(b)).toBe(o.items.reduce((s, i) => s + cents(i.amount), 0));

		// A refund reverses the order's entries (once, however often it is asked).
		const before = [cents(a.balance), cents(b.balance)];
		const refunded = await api<OrderBody>("POST", `/admin/orders/${placed.id}/refund`, { token: admin });
		expect(refunded.status).toBe(200);
		expect(refunded.body.refunded_at).toEqual(expect.any(String));
		expect((await api("POST", `/admin/orders/${placed.id}/refund`, { token: admin })).status).toBe(200);
		expect((await api("POST", `/admin/orders/${placed.id}/refund`, { token: alice.token })).status).toBe(403);
		await eventually(async () => {
			const [a2, b2] = await Promise.all([balance(aliceShop, alice.token), balance(bobShop, bob.token)]);
			expect(a2.entries.filter(e => e.order_id === placed.id && e.kind === "REFUND")).toHaveLength(1);
			expect(b2.entries.filter(e => e.order_id === placed.id && e.kind === "REFUND")).toHaveLength(1);
			expect(forOrder(a2) + forOrder(b2)).toBe(0);
			expect(cents(a2.balance)).toBe(before[0] - cents(a.entries.find(e => e.order_id === placed.id)!.net));
			expect(cents(b2.balance)).toBe(before[1] - cents(b.entries.find(e => e.order_id === placed.id)!.net));
		});
	});

	it("reverses a parcel delivered after the order was refunded (a refund of a SHIPPED order), so the order nets 0", async () => {
		const placed = await placeOrder();
		const o = await until(async () => {
			const v = await order(placed.id);
			expect(v.shipments).toHaveLength(2);
			return v;
		});
		const parcel = (shopId: string) => o.shipments.find(s => s.shop_id === shopId)!.id;
		expect((await api("POST", `/shops/${aliceShop}/shipments/${parcel(aliceShop)}/deliver`, { token: alice.token })).status).toBe(200);
		expect((await api("POST", `/admin/orders/${placed.id}/refund`, { token: admin })).status).toBe(200);
		// Bob's parcel is delivered after the refund: its SALE is booked and reversed at once.
		expect((await api("POST", `/shops/${bobShop}/shipments/${parcel(bobShop)}/deliver`, { token: bob.token })).status).toBe(200);
		await eventually(async () => {
			for (const [shopId, token] of [
				[aliceShop, alice.token],
				[bobShop, bob.token],
			] as const) {
				const entries = (await balance(shopId, token)).entries.filter(e => e.order_id === placed.id);
				expect(entries.map(e => e.kind).sort()).toEqual(["REFUND", "SALE"]);
				expect(entries.reduce((s, e) => s + cents(e.amount), 0)).toBe(0);
			}
		});
		expect((await order(placed.id)).status).toBe("DELIVERED");
	});
});
