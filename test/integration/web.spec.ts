/**
 * The gateway serves the built pages: the storefront at /, the console at /ops/, with a strict content security
 * policy, hashed assets cached for a year, and the pages opening in headless Chromium without errors.
 */
import type { Browser } from "playwright-core";
import { SERVICE_NAMES } from "../../services/common/names";
import { collectPageErrors, launchBrowser } from "../helpers/browser";
import { startShop, type Shop } from "../helpers/shop";

describe("the web pages", () => {
	let shop: Shop;
	let browser: Browser;

	beforeAll(async () => {
		shop = await startShop([...SERVICE_NAMES], { SEED_DEMO_DATA: "true" });
		browser = await launchBrowser();
	}, 60_000);
	afterAll(async () => {
		await browser?.close();
		await shop?.stop();
	});

	it("serves the storefront at / with a content security policy", async () => {
		const res = await fetch(`${shop.url}/`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/text\/html/);
		expect(res.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
		expect(res.headers.get("cache-control")).toBe("no-cache");
		const html = await res.text();
		const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
		expect(asset).toBeDefined();
		const js = await fetch(`${shop.url}${asset}`);
		expect(js.status).toBe(200);
		expect(js.headers.get("cache-control")).toMatch(/immutable/);
	});

	it("redirects /ops to the console's page", async () => {
		const res = await fetch(`${shop.url}/ops`, { redirect: "manual" });
		expect(res.status).toBe(301);
		expect(res.headers.get("location")).toBe("/ops/");
		const page = await fetch(`${shop.url}/ops/`);
		expect(page.status).toBe(200);
		expect(await page.text()).toMatch(/ShopFlow operations/);
	});

	it("answers 404 for a file that is not there, and the API keeps its own answers", async () => {
		expect((await fetch(`${shop.url}/no-such-page.html`)).status).toBe(404);
		expect((await fetch(`${shop.url}/api/v1/products`)).status).toBe(200);
	});

	it("opens the storefront in Chromium and shows the catalog", async () => {
		const page = await browser.newPage();
		const errors = collectPageErrors(page);
		await page.goto(`${shop.url}/`);
		await page.getByRole("heading", { name: "Catalog" }).waitFor();
		await page.getByText("7-in-1 USB-C Hub").first().waitFor();
		expect(errors).toEqual([]);
		await page.close();
	});
});
