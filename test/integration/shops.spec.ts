/**
 * The marketplace through the gateway, every service in one broker: sellers open shops, admins approve and
 * suspend them, a seller manages only its own products and stock, `shop=` filters the catalog and search, and a
 * suspended shop's products leave both within a second and cannot be checked out.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";
import { DEMO_SELLER_PASSWORD, DEMO_SELLERS } from "../../services/shops/client";

interface ShopBody {
	id: string;
	name: string;
	slug: string;
	owner_id: string | null;
	status: string;
	product_count: number;
	rating_average: number;
	rating_count: number;
}
interface ProductBody {
	id: string;
	shop_id: string;
	price: number;
}
interface PageBody<T> {
	rows: T[];
	total: number;
}
interface SearchBody extends PageBody<ProductBody> {
	facets: { brand: Record<string, number>; category: Record<string, number> };
}
interface ErrorBody {
	type: string;
}

const SERVICES = ["api", "users", "products", "search", "inventory", "reviews", "shops", "cart", "checkout", "orders", "payments", "shipping", "settings"] as const;
const ADDRESS = { street: "1 Market St", city: "Springfield", postal_code: "12345", country: "US" };

describe("shops through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let alice: { token: string; id: string };
	let bob: { token: string; id: string };
	let aliceShop: ShopBody;
	let bobShop: ShopBody;
	const tag = Math.random().toString(36).slice(2, 8);

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	/** Opens a shop as `token` and has the admin approve it. */
	async function openShop(token: string, name: string): Promise<ShopBody> {
		const res = await api<ShopBody>("POST", "/shops", { token, body: { name, description: "test shop" } });
		expect(res.status).toBe(201);
		expect(res.body.status).toBe("PENDING");
		const approved = await api<ShopBody>("POST", `/admin/shops/${res.body.id}/approve`, { token: admin });
		expect(approved.status).toBe(200);
		return approved.body;
	}

	/** A product of a shop, created by `token`, with stock. */
	async function product(token: string, shopId: string, name: string, units = 10): Promise<string> {
		const res = await api<ProductBody>("POST", `/shops/${shopId}/products`, { token, body: { name, brand: `Brand${tag}`, category: "gadgets", price: 20 } });
		expect(res.status).toBe(201);
		expect(res.body.shop_id).toBe(shopId);
		const stock = await api("PUT", `/inventory/${res.body.id}`, { token, body: { warehouse_id: "wh-1", on_hand: units } });
		expect(stock.status).toBe(200);
		return res.body.id;
	}

	const searchIds = async (query: string): Promise<string[]> => (await api<SearchBody>("GET", `/search?${query}`)).body.rows.map(r => r.id);
	const listIds = async (query: string): Promise<string[]> => (await api<PageBody<ProductBody>>("GET", `/products?${query}`)).body.rows.map(r => r.id);

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-shops-${Date.now()}-${Math.random()}` });
		admin = await loginAdmin(shop.url, shop.config);
		[alice, bob] = await Promise.all([registerCustomer(shop.url), registerCustomer(shop.url)]);
		aliceShop = await openShop(alice.token, `Alice ${tag}`);
		bobShop = await openShop(bob.token, `Bob ${tag}`);
	});
	afterAll(() => shop.stop());

	describe("shops", () => {
		it("hides a pending shop from everyone but its owner and admins, and refuses a taken name with 409", async () => {
			const carol = await registerCustomer(shop.url);
			const opened = await api<ShopBody>("POST", "/shops", { token: carol.token, body: { name: `Carol ${tag}` } });
			expect(opened.body).toMatchObject({ status: "PENDING", owner_id: carol.id, slug: `carol-${tag}` });
			expect((await api("GET", `/shops/${opened.body.id}`)).status).toBe(404);
			expect((await api("GET", `/shops/${opened.body.id}`, { token: alice.token })).status).toBe(404);
			expect((await api<ShopBody>("GET", `/shops/${opened.body.id}`, { token: carol.token })).body.status).toBe("PENDING");
			expect((await api("GET", `/shops/${opened.body.id}`, { token: admin })).status).toBe(200);
			const publicList = await api<PageBody<ShopBody>>("GET", "/shops?page_size=100");
			expect(publicList.body.rows.map(s => s.id)).not.toContain(opened.body.id);
			expect(publicList.body.rows.map(s => s.id)).toEqual(expect.arrayContaining([aliceShop.id, bobShop.id]));
			const own = await api<PageBody<ShopBody>>("GET", "/shops?page_size=100", { token: carol.token });
			expect(own.body.rows.map(s => s.id)).toContain(opened.body.id);

			const taken = await api<ErrorBody>("POST", "/shops", { token: bob.token, body: { name: `carol  ${tag.toUpperCase()}` } });
			expect(taken.status).toBe(409);
			expect(taken.body.type).toBe("SHOP_EXISTS");
		});

		it("lets only admins approve or suspend, and needs a signed-in user to open a shop", async () => {
			expect((await api("POST", `/admin/shops/${aliceShop.id}/suspend`, { token: alice.token })).status).toBe(403);
			expect((await api("POST", "/shops", { body: { name: `Anon ${tag}` } })).status).toBe(401);
			expect((await api("POST", "/shops", { token: alice.token, body: { name: "!" } })).status).toBe(422);
		});

		it("shows a shop's product count and its review-weighted rating", async () => {
			const id = await product(alice.token, aliceShop.id, `Rated ${tag}`);
			const body = (await api<ShopBody>("GET", `/shops/${aliceShop.id}`)).body;
			expect(body.product_count).toBeGreaterThanOrEqual(1);
			const own = await api<ErrorBody>("POST", "/reviews", { token: alice.token, body: { product_id: id, rating: 5, comment: "mine is best" } });
			expect(own.status).toBe(403);
			expect(own.body.type).toBe("OWN_SHOP_PRODUCT");
			const review = await api("POST", "/reviews", { token: bob.token, body: { product_id: id, rating: 4, comment: "good" } });
			expect(review.status).toBe(201);
			await eventually(async () => {
				const s = (await api<ShopBody>("GET", `/shops/${aliceShop.id}`)).body;
				expect(s).toMatchObject({ rating_average: 4, rating_count: 1 });
			});
		});
	});

	describe("ownership", () => {
		let aliceProduct: string;
		let bobProduct: string;
		beforeAll(async () => {
			aliceProduct = await product(alice.token, aliceShop.id, `Alice lamp ${tag}`);
			bobProduct = await product(bob.token, bobShop.id, `Bob lamp ${tag}`);
		});

		it("lets a seller change, restock and delete its own products", async () => {
			const own = await product(alice.token, aliceShop.id, `Alice spare ${tag}`);
			expect((await api<ProductBody>("PUT", `/products/${own}`, { token: alice.token, body: { price: 21 } })).body.price).toBe(21);
			const restocked = await api<{ on_hand: number }>("POST", `/inventory/${own}/restock`, { token: alice.token, body: { warehouse_id: "wh-1", quantity: 5 } });
			expect(restocked.body.on_hand).toBe(15);
			expect((await api("GET", `/inventory/${own}`, { token: alice.token })).status).toBe(200);
			expect((await api("DELETE", `/products/${own}`, { token: alice.token })).status).toBe(200);
		});

		it("answers 403 to a seller on another shop's products and stock, and changes nothing", async () => {
			const tries = [
				api("PUT", `/products/${bobProduct}`, { token: alice.token, body: { price: 1 } }),
				api("DELETE", `/products/${bobProduct}`, { token: alice.token }),
				api("GET", `/inventory/${bobProduct}`, { token: alice.token }),
				api("PUT", `/inventory/${bobProduct}`, { token: alice.token, body: { warehouse_id: "wh-1", on_hand: 0 } }),
				api("POST", `/inventory/${bobProduct}/restock`, { token: alice.token, body: { warehouse_id: "wh-1", quantity: 1 } }),
				api("POST", `/shops/${bobShop.id}/products`, { token: alice.token, body: { name: "Intruder", brand: "X", category: "gadgets", price: 1 } }),
			];
			for (const res of await Promise.all(tries)) expect(res.status).toBe(403);
			const after = await api<ProductBody>("GET", `/products/${bobProduct}`);
			expect(after.body.price).toBe(20);
			expect((await api<{ on_hand: number }>("GET", `/inventory/${bobProduct}`, { token: admin })).body.on_hand).toBe(10);
		});

		it("answers 404 for an unknown product or shop, and lets admins manage every shop's products", async () => {
			expect((await api("PUT", `/products/nope-${tag}`, { token: alice.token, body: { price: 1 } })).status).toBe(404);
			expect((await api("GET", `/inventory/nope-${tag}`, { token: alice.token })).status).toBe(404);
			expect((await api("POST", `/shops/nope-${tag}/products`, { token: alice.token, body: { name: "X", brand: "X", category: "gadgets", price: 1 } })).status).toBe(404);
			expect((await api("PUT", `/products/${aliceProduct}`, { token: admin, body: { description: "checked" } })).status).toBe(200);
			const house = await api<ProductBody>("POST", "/products", { token: admin, body: { name: `House ${tag}`, brand: "X", category: "gadgets", price: 3 } });
			expect(house.body.shop_id).toBe("shopflow");
			const placed = await api<ProductBody>("POST", "/products", { token: admin, body: { name: `Placed ${tag}`, brand: "X", category: "gadgets", price: 3, shop_id: bobShop.id } });
			expect(placed.body.shop_id).toBe(bobShop.id);
		});

		it("lets the owner of a shop not yet approved stock its products, and admins stock a suspended shop's, while neither is sold", async () => {
			const erin = await registerCustomer(shop.url);
			const opened = await api<ShopBody>("POST", "/shops", { token: erin.token, body: { name: `Erin ${tag}` } });
			expect(opened.body.status).toBe("PENDING");
			const made = await api<ProductBody>("POST", `/shops/${opened.body.id}/products`, { token: erin.token, body: { name: `Erin kettle ${tag}`, brand: "X", category: "gadgets", price: 9 } });
			expect(made.status).toBe(201);
			const id = made.body.id;
			const set = await api<{ on_hand: number }>("PUT", `/inventory/${id}`, { token: erin.token, body: { warehouse_id: "wh-1", on_hand: 4 } });
			expect(set.status).toBe(200);
			const restocked = await api<{ on_hand: number }>("POST", `/inventory/${id}/restock`, { token: erin.token, body: { warehouse_id: "wh-1", quantity: 2 } });
			expect(restocked.body.on_hand).toBe(6);
			expect((await api<{ on_hand: number }>("GET", `/inventory/${id}`, { token: erin.token })).body.on_hand).toBe(6);
			// Another seller: the shop is not public yet, so it is not found at all.
			expect((await api("PUT", `/inventory/${id}`, { token: alice.token, body: { warehouse_id: "wh-1", on_hand: 0 } })).status).toBe(404);
			expect((await api("GET", `/products/${id}`)).status).toBe(404);

			expect((await api("POST", `/admin/shops/${opened.body.id}/approve`, { token: admin })).status).toBe(200);
			expect((await api("POST", `/admin/shops/${opened.body.id}/suspend`, { token: admin })).status).toBe(200);
			const zeroed = await api<{ on_hand: number }>("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 0 } });
			expect(zeroed.status).toBe(200);
			expect(zeroed.body.on_hand).toBe(0);
			await api("DELETE", `/products/${id}`, { token: admin });
			expect((await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 1 } })).status).toBe(404);
		});

		it("filters /products, /search and the facets by shop=", async () => {
			await eventually(async () => expect(await searchIds(`shop=${aliceShop.id}&brand=Brand${tag}`)).toContain(aliceProduct));
			const listed = await api<PageBody<ProductBody>>("GET", `/products?shop=${aliceShop.id}&page_size=100`);
			expect(listed.body.rows.length).toBeGreaterThan(0);
			expect(listed.body.rows.every(r => r.shop_id === aliceShop.id)).toBe(true);
			expect(listed.body.rows.map(r => r.id)).not.toContain(bobProduct);
			const found = await api<SearchBody>("GET", `/search?shop=${bobShop.id}&page_size=100`);
			expect(found.body.rows.every(r => r.shop_id === bobShop.id)).toBe(true);
			expect(found.body.rows.map(r => r.id)).toContain(bobProduct);
			const counted = Object.values(found.body.facets.brand).reduce((a, b) => a + b, 0);
			expect(counted).toBe(found.body.total);
			expect(found.body.total).toBe(found.body.rows.length);
		});
	});

	describe("suspension", () => {
		it("hides a suspended shop's products from /products and /search within a second, blocks checkout, and approval restores them", async () => {
			const dave = await registerCustomer(shop.url);
			const daveShop = await openShop(dave.token, `Dave ${tag}`);
			const id = await product(dave.token, daveShop.id, `Dave kettle ${tag}`);
			await eventually(async () => expect(await searchIds(`q=kettle&shop=${daveShop.id}`)).toContain(id));

			const buyer = await registerCustomer(shop.url);
			expect((await api("POST", "/cart/add", { token: buyer.token, body: { product_id: id, quantity: 1 } })).status).toBe(200);

			const suspended = Date.now();
			expect((await api<ShopBody>("POST", `/admin/shops/${daveShop.id}/suspend`, { token: admin })).body.status).toBe("SUSPENDED");
			await eventually(async () => {
				expect(await listIds(`shop=${daveShop.id}`)).toEqual([]);
				expect(await searchIds(`q=kettle&shop=${daveShop.id}`)).toEqual([]);
			}, 1000);
			expect(Date.now() - suspended).toBeLessThan(1000);
			expect((await api("GET", `/products/${id}`)).status).toBe(404);
			expect((await api("GET", `/shops/${daveShop.id}`)).status).toBe(404);
			expect((await api<ShopBody>("GET", `/shops/${daveShop.id}`, { token: dave.token })).body.status).toBe("SUSPENDED");

			const refused = await api<ErrorBody>("POST", "/checkout", { token: buyer.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
			expect(refused.status).toBe(409);
			expect(refused.body.type).toBe("PRODUCT_UNAVAILABLE");
			expect((await api<PageBody<unknown>>("GET", "/orders", { token: buyer.token })).body.total).toBe(0);
			expect((await api<{ reserved: number }>("GET", `/inventory/${id}`, { token: admin })).body.reserved).toBe(0);

			expect((await api<ShopBody>("POST", `/admin/shops/${daveShop.id}/approve`, { token: admin })).body.status).toBe("ACTIVE");
			await eventually(async () => {
				expect(await listIds(`shop=${daveShop.id}`)).toEqual([id]);
				expect(await searchIds(`q=kettle&shop=${daveShop.id}`)).toEqual([id]);
			}, 1000);
			const placed = await api<{ order: { status: string } }>("POST", "/checkout", { token: buyer.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
			expect(placed.status).toBe(201);
		});
	});

	describe("the marketplace flag", () => {
		it("answers the shops routes with 503 FEATURE_DISABLED while it is off, and the catalog goes on", async () => {
			const flag = (enabled: boolean) => api("PUT", "/admin/flags/marketplace", { token: admin, body: { enabled } });
			expect((await flag(false)).status).toBe(200);
			try {
				await eventually(async () => expect((await api<ErrorBody>("GET", "/shops")).body.type).toBe("FEATURE_DISABLED"), 2000);
				const opened = await api<ErrorBody>("POST", "/shops", { token: alice.token, body: { name: `Late ${tag}` } });
				expect([opened.status, opened.body.type]).toEqual([503, "FEATURE_DISABLED"]);
				expect((await api("POST", `/shops/${aliceShop.id}/products`, { token: alice.token, body: { name: "X", brand: "X", category: "gadgets", price: 1 } })).status).toBe(503);
				expect((await api("GET", "/products")).status).toBe(200);
			} finally {
				await flag(true);
			}
			await eventually(async () => expect((await api("GET", "/shops")).status).toBe(200), 2000);
		});
	});
});

describe("the demo marketplace (SEED_DEMO_DATA)", () => {
	let shop: Shop;
	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);
	const login = async (email: string): Promise<string> => {
		const res = await api<{ token: string }>("POST", "/users/login", { body: { email, password: DEMO_SELLER_PASSWORD } });
		expect(res.status).toBe(200);
		return res.body.token;
	};

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "shops"], { NAMESPACE: `t-shops-demo-${Date.now()}-${Math.random()}`, SEED_DEMO_DATA: "true" });
	});
	afterAll(() => shop.stop());

	it("spreads the catalog over three shops whose documented sellers manage only their own products", async () => {
		const listed = await api<PageBody<ShopBody>>("GET", "/shops");
		const demo = listed.body.rows.filter(s => DEMO_SELLERS.some(d => d.shop.id === s.id));
		expect(demo).toHaveLength(3);
		for (const s of demo) expect(s.product_count).toBeGreaterThan(0);

		const compute = await login("compute@shopflow.local");
		expect((await api<ProductBody>("GET", "/products/laptop-123")).body.shop_id).toBe("compute-corner");
		expect((await api("PUT", "/products/laptop-123", { token: compute, body: { description: "Seller's words" } })).status).toBe(200);
		expect((await api("POST", "/inventory/laptop-123/restock", { token: compute, body: { warehouse_id: "wh-east", quantity: 1 } })).status).toBe(200);
		expect((await api("PUT", "/products/iphone-16", { token: compute, body: { description: "Not mine" } })).status).toBe(403);
		expect((await api("GET", "/inventory/iphone-16", { token: compute })).status).toBe(403);
		const sound = await login("sound@shopflow.local");
		expect((await api("PUT", "/products/iphone-16", { token: sound, body: { description: "Mine" } })).status).toBe(200);
	});
});
