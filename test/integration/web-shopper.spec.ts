/**
 * A shopper's journey through the storefront in headless Chromium on a phone-sized screen (390x844), against a real
 * shop with the demo data: browse and filter, search with facets, sign up, add to cart, apply a voucher, check out
 * (a double click is one order), see the order and its timeline; and the errors told in words: an unknown voucher,
 * a declined card, stock that ran out, a voucher used up. Screenshots (store-*.png) go to SCREENSHOTS_DIR: docs/screenshots with `npm run screenshots`, else a temporary folder.
 */
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { SERVICE_NAMES } from "../../services/common/names";
import { collectPageErrors, launchBrowser, SCREENSHOTS } from "../helpers/browser";
import { http, loginAdmin, startShop, type Shop } from "../helpers/shop";

const usd = (amount: number) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(amount);

interface Listing {
	total: number;
}

describe("the storefront: a shopper's journey", () => {
	let shop: Shop;
	let browser: Browser;
	let context: BrowserContext;
	let page: Page;
	let errors: string[];
	let admin: string;
	const voucher = `PHONE${Date.now().toString(36).toUpperCase()}`;
	const email = `phone-${Date.now()}@example.com`;
	const api = <T>(method: string, p: string, opts: { body?: unknown; token?: string } = {}) => http<T>(shop.url, method, `/api/v1${p}`, opts);
	const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `store-${name}.png`), fullPage: true });
	const shopperToken = async () => (await page.evaluate(() => localStorage.getItem("shopflow.token"))) ?? "";
	const count = (total: number, word: string) => page.getByText(new RegExp(`^${total} ${word}${total === 1 ? "" : "s"}\\b`));

	beforeAll(async () => {
		shop = await startShop([...SERVICE_NAMES], { SEED_DEMO_DATA: "true" });
		admin = await loginAdmin(shop.url, shop.config);
		// One use only: the journey's order uses it up, and the next cart is told so.
		const created = await api("POST", "/admin/vouchers", { token: admin, body: { code: voucher, type: "percent", value: 10, max_uses: 1 } });
		expect(created.status).toBe(201);
		// A flat shipping fee and a US tax rate, so that every line of the bill has something to show.
		const settings = await api("PUT", "/admin/settings", { token: admin, body: { shipping: { flat_fee: 5.99, free_over: 1000 }, tax: { default_rate: 0, rates: { US: 8.25 } } } });
		expect(settings.status).toBe(200);
		browser = await launchBrowser();
		context = await browser.newContext({ viewport: { width: 390, height: 844 } });
		page = await context.newPage();
		errors = collectPageErrors(page, { allowApiAnswers: true });
	}, 60_000);
	afterAll(async () => {
		await browser?.close();
		await shop?.stop();
	});
	afterEach(() => {
		expect(errors).toEqual([]);
	});

	it("browses the catalog and narrows it by category, brand and shop", async () => {
		await page.goto(`${shop.url}/`);
		const all = await api<Listing>("GET", "/products");
		await count(all.body.total, "product").waitFor();
		await page.getByText("7-in-1 USB-C Hub").waitFor();

		await page.getByLabel("Category").selectOption("audio");
		const audio = await api<Listing>("GET", "/products?category=audio");
		await count(audio.body.total, "product").waitFor();
		expect(page.url()).toMatch(/#\/\?category=audio$/);
		await page.getByText("WH-1000XM5 Wireless Headphones").waitFor();
		expect(await page.getByText("7-in-1 USB-C Hub").count()).toBe(0);

		await page.getByLabel("Brand").selectOption("Sony");
		const sony = await api<Listing>("GET", "/products?category=audio&brand=Sony");
		await count(sony.body.total, "product").waitFor();
		expect(await page.locator(".card").count()).toBe(sony.body.total);

		await page.getByLabel("Category").selectOption("");
		await page.getByLabel("Brand").selectOption("");
		await page.getByLabel("Shop", { exact: true }).selectOption("compute-corner");
		const corner = await api<Listing>("GET", "/products?shop=compute-corner");
		await count(corner.body.total, "product").waitFor();
		await shot("catalog");
	});

	it("searches and narrows the results with the facets", async () => {
		await page.getByLabel("Search the shop").fill("sony");
		await page.getByLabel("Search the shop").press("Enter");
		const found = await api<Listing>("GET", "/search?q=sony");
		await page.getByText(`${found.body.total} results for “sony”`).waitFor();
		await page.getByRole("link", { name: /^audio \(\d+\)$/ }).click();
		const audio = await api<Listing>("GET", "/search?q=sony&category=audio");
		await page.getByText(`${audio.body.total} results for “sony”`).waitFor();
		expect(await page.locator(".card").count()).toBe(audio.body.total);
		await shot("search");
	});

	it("opens a product with its availability and reviews, signs up to add it to the cart, and reviews it", async () => {
		await page.getByRole("link", { name: "WH-1000XM5 Wireless Headphones" }).click();
		await page.getByRole("heading", { name: "WH-1000XM5 Wireless Headphones" }).waitFor();
		await page.getByText(/\d+ available/).waitFor();
		await page.getByRole("heading", { name: "Reviews" }).waitFor();

		// Signed out, adding to the cart asks to sign in first, and comes back here afterwards.
		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByRole("heading", { name: "Sign in" }).waitFor();
		await page.getByRole("link", { name: "Create an account" }).click();
		await page.getByLabel("Name").fill("Phone Shopper");
		await page.getByLabel("Email").fill(email);
		await page.getByLabel("Password").fill("correct-horse-battery");
		await page.getByRole("button", { name: "Sign up" }).click();
		await page.getByRole("heading", { name: "WH-1000XM5 Wireless Headphones" }).waitFor();
		await page.getByRole("button", { name: /Sign out Phone Shopper/ }).waitFor();

		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByText("Added 1 to your cart.").waitFor();
		await page.locator(".count-badge", { hasText: "1" }).waitFor();

		await page.getByText("Write a review").click();
		await page.getByLabel("Rating").selectOption("4");
		await page.getByLabel("Comment").fill("Quiet on the train, and the battery lasts the week.");
		await page.getByRole("button", { name: "Post review" }).click();
		await page.getByText("Thank you for your review.").waitFor();
		await page.locator(".review-list li", { hasText: "Quiet on the train" }).waitFor();
		const reviews = await api<{ count: number; average_rating: number }>("GET", "/reviews?product_id=sony-wh-1000xm5");
		expect(reviews.body.count).toBe(1);
		expect(reviews.body.average_rating).toBe(4);
		await shot("product");
	});

	it("changes a quantity, refuses an unknown voucher, applies a real one, and shows the whole bill", async () => {
		await page.getByRole("link", { name: /^Cart/ }).click();
		await page.getByRole("heading", { name: "Your cart" }).waitFor();
		await page.getByLabel("Quantity of WH-1000XM5 Wireless Headphones").fill("2");
		await page.getByRole("button", { name: "Update" }).click();
		await page.locator(".count-badge", { hasText: "2" }).waitFor();

		await page.getByLabel("Voucher code").fill("NO-SUCH-CODE");
		await page.getByRole("button", { name: "Apply" }).click();
		await page.getByRole("alert").getByText("There is no voucher with this code.").waitFor();

		await page.getByLabel("Voucher code").fill(voucher.toLowerCase());
		await page.getByRole("button", { name: "Apply" }).click();
		await page.getByText(`Voucher ${voucher} saves you`).waitFor();
		const cart = await api<{ subtotal: number; discount: number; total: number }>("GET", "/cart", { token: await shopperToken() });
		expect(cart.body.discount).toBeGreaterThan(0);
		expect(await page.getByTestId("bill-total").textContent()).toBe(usd(cart.body.total));
		await shot("cart");
	});

	it("checks out with a new address and card: a double click is one order, and the order shows its timeline", async () => {
		await page.getByRole("link", { name: "Check out" }).click();
		await page.getByRole("heading", { name: "Checkout" }).waitFor();
		await page.getByText("Add a new address").click();
		await page.getByLabel("Label (e.g. Home)").fill("Home");
		await page.getByLabel("Street").fill("1 Main St");
		await page.getByLabel("City").fill("Springfield");
		await page.getByLabel("Postal code").fill("12345");
		await page.getByLabel("Country code (e.g. US)").fill("US");
		await page.getByRole("button", { name: "Save address" }).click();
		await page.getByRole("radio", { name: /Home: 1 Main St Springfield/ }).waitFor();
		await page.getByText("Add a payment method").click();
		await page.getByLabel(/Card token/).fill("card-456");
		await page.getByLabel("Brand").fill("Visa");
		await page.getByLabel("Last 4 digits").fill("4242");
		await page.getByRole("button", { name: "Save payment method" }).click();
		await page.getByRole("radio", { name: "Visa ending in 4242" }).waitFor();
		// The bill for the address's country: shipping and US tax on the discounted subtotal.
		const quote = await api<{ shipping_fee: number; tax: number; total: number }>("GET", "/cart?country=US", { token: await shopperToken() });
		expect(quote.body.shipping_fee).toBe(5.99);
		expect(quote.body.tax).toBeGreaterThan(0);
		await page.getByTestId("bill-total").filter({ hasText: usd(quote.body.total) }).waitFor();
		await shot("checkout");

		await page.getByRole("button", { name: "Place order" }).dblclick();
		await page.getByText("Thank you! Your order is placed.").waitFor();
		const token = await shopperToken();
		const orders = await api<{ total: number; rows: Array<{ id: string; total: number; voucher?: { code: string } }> }>("GET", "/orders", { token });
		expect(orders.body.total).toBe(1);
		const order = orders.body.rows[0]!;
		expect(order.voucher?.code).toBe(voucher);
		expect(order.total).toBe(quote.body.total);
		expect(page.url()).toContain(`#/order/${order.id}`);

		const timeline = page.locator("ol.timeline > li");
		await page.locator("ol.timeline li", { hasText: "Shipped" }).waitFor();
		const history = await api<{ history: unknown[] }>("GET", `/orders/${order.id}`, { token });
		const trail = await api<unknown[] | { rows: unknown[] }>("GET", `/orders/${order.id}/history`, { token });
		// The audit trail where the shop has it, else the order's own status changes: one entry each.
		const events = trail.status === 200 ? (Array.isArray(trail.body) ? trail.body : trail.body.rows) : [];
		const expected = events.length > 0 ? events.length : history.body.history.length;
		expect(await timeline.count()).toBe(expected);
		await page.getByTestId("bill-total").filter({ hasText: usd(order.total) }).waitFor();
		expect(await page.locator(".cart-link .count-badge").textContent()).toBe("0");
		await shot("order");

		await page.getByRole("link", { name: "Orders", exact: true }).click();
		await page.getByRole("link", { name: order.id }).waitFor();
	});

	it("tells the shopper in words when the voucher is used up, the card is declined or the stock ran out", async () => {
		const token = await shopperToken();
		await page.goto(`${shop.url}/#/product/anker-usb-c-hub-7in1`);
		await page.getByRole("button", { name: "Add to cart" }).click();
		await page.getByText("Added 1 to your cart.").waitFor();

		// The journey's order used the voucher's one use.
		await page.getByRole("link", { name: /^Cart/ }).click();
		await page.getByLabel("Voucher code").fill(voucher);
		await page.getByRole("button", { name: "Apply" }).click();
		await page.getByRole("alert").getByText("This voucher has been used up.").waitFor();

		// A declined card: nothing charged, the cart stays as it was.
		await page.getByRole("link", { name: "Check out" }).click();
		await page.getByText("Add a payment method").click();
		await page.getByLabel(/Card token/).fill("card-declined");
		await page.getByLabel("Brand").fill("Visa");
		await page.getByLabel("Last 4 digits").fill("0002");
		await page.getByRole("button", { name: "Save payment method" }).click();
		await page.getByRole("radio", { name: "Visa ending in 0002" }).check();
		await page.getByRole("button", { name: "Place order" }).click();
		await page.getByRole("alert").getByText(/Your card was declined/).waitFor();
		await shot("declined");
		const cart = await api<{ items: unknown[] }>("GET", "/cart", { token });
		expect(cart.body.items).toHaveLength(1);

		// The stock runs out between the cart and the checkout.
		const levels = await api<{ warehouses: Array<{ warehouse_id: string }> }>("GET", "/inventory/anker-usb-c-hub-7in1", { token: admin });
		for (const w of levels.body.warehouses) {
			const set = await api("PUT", "/inventory/anker-usb-c-hub-7in1", { token: admin, body: { warehouse_id: w.warehouse_id, on_hand: 0 } });
			expect(set.status).toBe(200);
		}
		await page.getByRole("radio", { name: "Visa ending in 4242" }).check();
		await page.getByRole("button", { name: "Place order" }).click();
		await page.getByRole("alert").getByText(/no longer in stock|went out of stock/).waitFor();
		const orders = await api<{ rows: Array<{ status: string }> }>("GET", "/orders", { token });
		expect(orders.body.rows.map(o => o.status).sort()).toEqual(["FAILED", "FAILED", "SHIPPED"]);
	});

	it("signs out, refuses a wrong password in words, and signs back in to the orders", async () => {
		await page.getByRole("button", { name: /^Sign out/ }).click();
		await page.getByRole("link", { name: "Sign in" }).waitFor();
		expect(await page.evaluate(() => localStorage.getItem("shopflow.token"))).toBeNull();
		await page.goto(`${shop.url}/#/orders`);
		await page.getByRole("heading", { name: "Sign in" }).waitFor();
		await page.getByLabel("Email").fill(email);
		await page.getByLabel("Password").fill("not-the-password");
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("alert").getByText("The email or password is wrong.").waitFor();
		await page.getByLabel("Password").fill("correct-horse-battery");
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("heading", { name: "Your orders" }).waitFor();
		expect(await page.locator(".order-list li").count()).toBe(3);
	});

	it("is usable with the keyboard: a skip link, visible focus, and every page reachable by links", async () => {
		await page.goto(`${shop.url}/#/shops`);
		await page.reload();
		await page.getByRole("link", { name: "Compute Corner" }).waitFor();
		await page.keyboard.press("Tab");
		const skip = page.getByRole("link", { name: "Skip to content" });
		// (Strings run in the page: the tests compile without the DOM's types.)
		expect(await page.evaluate<string>("document.activeElement.textContent")).toBe("Skip to content");
		expect((await skip.boundingBox())?.x).toBeGreaterThanOrEqual(0);
		const outline = await page.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle");
		expect(outline).not.toBe("none");
		await page.keyboard.press("Enter");
		expect(await page.evaluate<string>("document.activeElement.id")).toBe("main");
		await page.getByRole("link", { name: "Compute Corner" }).focus();
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Compute Corner" }).waitFor();
		const products = await api<Listing>("GET", "/products?shop=compute-corner&page_size=12");
		await page.locator(".card").nth(Math.min(products.body.total, 12) - 1).waitFor();
		await shot("shop");
	});

	it("moves nothing in view while the pages' data arrives (cumulative layout shift under 0.1)", async () => {
		const pages: Array<[string, string]> = [
			["/", ".grid .card:not(.skeleton)"],
			["/#/search?q=sony", ".grid .card:not(.skeleton)"],
			["/#/product/sony-wh-1000xm5", ".price-big"],
			["/#/shop/compute-corner", ".grid .card:not(.skeleton)"],
			["/#/cart", ".bill"],
			["/#/checkout", ".bill"],
			["/#/orders", ".order-list li"],
		];
		for (const [route, content] of pages) {
			const p = await context.newPage();
			const pageErrors = collectPageErrors(p);
			// Layout shifts as Chromium reports them, summed from the first paint on (a string: it runs in the page).
			await p.addInitScript(
				"window.__cls = 0; new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; }).observe({ type: 'layout-shift', buffered: true });",
			);
			await p.goto(`${shop.url}${route}`);
			await p.locator(content).first().waitFor();
			await p.waitForTimeout(300);
			const cls = await p.evaluate<number>("window.__cls");
			expect({ route, cls: cls < 0.1 ? "under 0.1" : cls }).toEqual({ route, cls: "under 0.1" });
			expect(pageErrors).toEqual([]);
			await p.close();
		}
	});

	it("keeps the layout still while the catalog loads, and shows it wide on a desktop screen", async () => {
		// The product grid's placeholders have the cards' size: the first card does not move when the data arrives.
		const desk = await context.newPage();
		const deskErrors = collectPageErrors(desk);
		await desk.setViewportSize({ width: 1280, height: 860 });
		await desk.route("**/api/v1/products?*", async route => {
			await new Promise(r => setTimeout(r, 1500));
			await route.continue();
		});
		await desk.goto(`${shop.url}/`);
		await desk.locator(".grid .card.skeleton").first().waitFor();
		const placeholder = await desk.locator(".grid .card").first().boundingBox();
		expect(placeholder).not.toBeNull();
		await desk.getByText("7-in-1 USB-C Hub").waitFor();
		const card = await desk.locator(".grid .card").first().boundingBox();
		expect(card).toEqual(placeholder);
		await desk.screenshot({ path: path.join(SCREENSHOTS, "store-catalog-desktop.png") });
		expect(deskErrors).toEqual([]);
		await desk.close();
	});
});
