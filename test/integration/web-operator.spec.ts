/**
 * The operator's journey in headless Chromium (issue 17): sign in to the console at /ops/, run a chaos scenario
 * and see its outcomes and invariants, open a compensated saga's trace as a waterfall, and redrive a dead letter.
 * The compensated saga is a real one (a customer charged for the last unit another customer took, refunded when
 * the stock step fails); the dead letter is a real consumer failing (a checkout whose event deliveries fail by
 * fault injection until the consumer gives up). Screenshots (ops-*.png) go to SCREENSHOTS_DIR: docs/screenshots with `npm run screenshots`, else a temporary folder.
 */
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { SERVICE_NAMES } from "../../services/common/names";
import { collectPageErrors, launchBrowser, SCREENSHOTS } from "../helpers/browser";
import { eventually } from "../helpers/eventually";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

const PRODUCT = "ops-last-mug";

describe("the operator's journey in the console", () => {
	let shop: Shop;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	let admin: string;

	/** A customer with `product` in the cart. */
	async function customerWith(product: string): Promise<string> {
		const c = await registerCustomer(shop.url);
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: c.token, body: { product_id: product, quantity: 1 } })).status).toBe(200);
		return c.token;
	}
	const checkout = (token: string, headers: Record<string, string> = {}) =>
		http<{ order: { id: string; status: string; failure_reason: string | null } }>(shop.url, "POST", "/api/v1/checkout", {
			token,
			headers,
			body: { shipping_address: "1 Main St", payment_method: "card-456" },
		});

	beforeAll(async () => {
		shop = await startShop([...SERVICE_NAMES], { SEED_DEMO_DATA: "true", RATE_LIMIT_PER_MINUTE: "100000", DELIVERY_DELAY_MS: "300" });
		admin = await loginAdmin(shop.url, shop.config);
		expect((await http(shop.url, "POST", "/api/v1/products", { token: admin, body: { id: PRODUCT, name: "The Last Mug", brand: "Acme", category: "home", price: 12 } })).status).toBe(201);
		browser = await launchBrowser();
		page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
		errors = collectPageErrors(page);
	}, 60_000);
	afterAll(async () => {
		await browser?.close();
		await shop?.stop();
	});

	it("signs in as the admin and goes live", async () => {
		await page.goto(`${shop.url}/ops/`);
		await page.getByRole("heading", { name: "Sign in as an admin" }).waitFor();
		await page.screenshot({ path: path.join(SCREENSHOTS, "ops-signin.png") });
		await page.getByLabel("Email").fill(shop.config.adminEmail);
		await page.getByLabel("Password").fill(shop.config.adminPassword);
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("status").filter({ hasText: "live" }).waitFor();
		await page.getByRole("heading", { name: "Orders per minute" }).waitFor();
	}, 30_000);

	it("runs a chaos scenario and shows its outcomes and invariants as they finish", async () => {
		await page.getByLabel("Scenario").selectOption("2");
		await page.getByRole("spinbutton", { name: "Checkouts" }).fill("24");
		await page.getByRole("button", { name: "Run scenario" }).click();
		await page.getByRole("button", { name: "Running…" }).waitFor();
		const run = page.locator(".run");
		await run.getByText("done", { exact: true }).waitFor({ timeout: 120_000 });
		expect(await run.locator(".outcome").count()).toBe(24);
		for (const name of ["orders settle", "one charge per order", "money nets to zero for failed orders", "stock conserved", "orders rebuild from their streams"])
			await run.locator(".inv-holds", { hasText: name }).waitFor();
		expect(await run.locator(".inv-violated").count()).toBe(0);
		// The charts follow the orders the run placed.
		await page.waitForTimeout(2500);
		await page.locator("section", { has: page.getByRole("heading", { name: "Chaos playground" }) }).screenshot({ path: path.join(SCREENSHOTS, "ops-chaos.png") });
	}, 150_000);

	it("opens a compensated saga's trace as a waterfall with the saga's steps", async () => {
		// Scenario 2 may have opened the breaker on payments.charge: it lets a call through again after 5 s.
		await eventually(
			async () => {
				const snap = await http<{ breakers: Array<{ state: string }> }>(shop.url, "GET", "/api/v1/admin/ops/snapshot", { token: admin });
				expect(snap.body.breakers.filter(b => b.state === "open")).toEqual([]);
			},
			20_000,
			500,
		);
		// One unit left, two carts holding it: the second checkout is charged, finds no stock, and is refunded.
		expect((await http(shop.url, "PUT", `/api/v1/inventory/${PRODUCT}`, { token: admin, body: { warehouse_id: "main", on_hand: 1 } })).status).toBe(200);
		const [first, second] = [await customerWith(PRODUCT), await customerWith(PRODUCT)];
		expect((await checkout(first)).status).toBe(201);
		const failed = await checkout(second);
		expect(failed.status).toBe(409);
		expect(failed.body.order).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });

		// The console hears of it live and offers its trace.
		const row = page.locator("tr", { hasText: failed.body.order.id });
		await row.getByText("(compensated)").waitFor({ timeout: 15_000 });
		await row.getByRole("button", { name: `Open the trace of order ${failed.body.order.id}` }).click();
		const tracePanel = page.locator("#trace");
		await tracePanel.locator(".waterfall").waitFor();
		for (const action of ["checkout.start", "orders.create", "payments.charge", "inventory.reserve", "payments.refund"])
			await tracePanel.locator(".waterfall td", { hasText: action }).first().waitFor();
		await tracePanel.locator(".step-compensated", { hasText: "payment" }).waitFor();
		await tracePanel.getByText(/Saga saga_\w+: COMPENSATED/).waitFor();
		await tracePanel.screenshot({ path: path.join(SCREENSHOTS, "ops-trace.png") });
	}, 60_000);

	it("redrives a dead letter left by a consumer that kept failing", async () => {
		// Every delivery of this checkout's events fails (fault injection on the message bus) until the consumers give up.
		const token = await customerWith("laptop-123");
		expect((await checkout(token, { "X-Behavior": "message-bus:error=503:1" })).status).toBe(201);
		const panel = page.locator("section", { has: page.getByRole("heading", { name: "Dead letters" }) });
		const redrive = panel.getByRole("button", { name: "Redrive" }).first();
		await redrive.waitFor({ timeout: 90_000 });
		const before = await panel.getByRole("button", { name: "Redrive" }).count();
		await panel.screenshot({ path: path.join(SCREENSHOTS, "ops-dead-letters.png") });
		await redrive.click();
		await panel.getByRole("status").filter({ hasText: "redriven" }).waitFor();
		// The redriven letter leaves the list of dead ones.
		await eventually(async () => expect(await panel.getByRole("button", { name: "Redrive" }).count()).toBeLessThan(before), 10_000, 200);
		await page.screenshot({ path: path.join(SCREENSHOTS, "ops-console.png"), fullPage: true });
		expect(errors).toEqual([]);
	}, 120_000);
});
