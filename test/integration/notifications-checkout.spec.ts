/**
 * A real checkout through the gateway leaves the customer a notification for each step of the order.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface Page {
	rows: Array<{ event: string; order_id: string | null; message: string }>;
	total: number;
}

describe("notifications of a checkout", () => {
	let shop: Shop;

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping", "notifications"], {
			NAMESPACE: `t-ntfc-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
		});
	});
	afterAll(() => shop.stop());

	it("tells the customer about every step from order to delivery, and nobody else", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const id = `ntf-item-${Date.now()}`;
		expect((await http(shop.url, "POST", "/api/v1/products", { token: admin, body: { id, name: "Lamp", brand: "Acme", category: "home", price: 19.99 } })).status).toBe(201);
		expect((await http(shop.url, "PUT", `/api/v1/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);

		const alice = await registerCustomer(shop.url);
		const bob = await registerCustomer(shop.url);
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: alice.token, body: { product_id: id, quantity: 2 } })).status).toBeLessThan(300);
		const checkout = await http<{ order: { id: string; status: string; shipment_id: string } }>(shop.url, "POST", "/api/v1/checkout", {
			token: alice.token,
			body: { shipping_address: { street: "1 Elm St", city: "Springfield", postal_code: "12345", country: "US" }, payment_method: "card-456" },
		});
		expect(checkout.status).toBe(201);
		const order = checkout.body.order;
		expect(order.status).toBe("SHIPPED");
		expect((await http(shop.url, "POST", `/api/v1/shipments/${order.shipment_id}/deliver`, { token: admin })).status).toBe(200);

		const wanted = ["order.created", "payment.processed", "inventory.reserved", "order.shipped", "order.delivered"];
		let page: Page = { rows: [], total: 0 };
		const end = Date.now() + 10_000;
		while (Date.now() < end) {
			page = (await http<Page>(shop.url, "GET", "/api/v1/account/notifications?page_size=100", { token: alice.token })).body;
			if (wanted.every(w => page.rows.some(r => r.event === w))) break;
			await new Promise(r => setTimeout(r, 50));
		}
		expect(page.rows.map(r => r.event)).toEqual(expect.arrayContaining(wanted));
		expect(page.rows.every(r => r.order_id === order.id)).toBe(true);
		expect(page.rows.find(r => r.event === "order.delivered")?.message).toBe(`Your order ${order.id} has been delivered.`);
		// One notification per event: no event twice.
		const statuses = page.rows.filter(r => r.event !== "order.updated").map(r => r.event);
		expect(new Set(statuses).size).toBe(statuses.length);

		const other = (await http<Page>(shop.url, "GET", "/api/v1/account/notifications", { token: bob.token })).body;
		expect(other.total).toBe(0);
	});
});
