/**
 * GET /api/openapi.json and GET /api/docs on a whole shop: the document is valid OpenAPI 3.1 (the official schema,
 * and JSON Schema 2020-12 for every schema in it), its routes and the gateway's are the same one to one, every
 * documented route answers through the gateway, and a service that joins later is described without an edit.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { http, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";
import { SERVICE_NAMES } from "../../services/common/names";

type Doc = { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

const run = promisify(execFile);

/** Validates a document in a separate process (the validator is an ES module); the answer is its report. */
async function validate(doc: unknown): Promise<{ valid: boolean; schemas: number; errors: unknown[] }> {
	const file = join(mkdtempSync(join(tmpdir(), "openapi-")), "doc.json");
	writeFileSync(file, JSON.stringify(doc));
	const out = await run(process.execPath, [join(__dirname, "../helpers/validate-openapi.mjs"), file]).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
	return JSON.parse(out.stdout) as { valid: boolean; schemas: number; errors: unknown[] };
}

/** `GET /api/v1/products/{id}` for each operation of a document. */
const documented = (doc: Doc): string[] => Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map(m => `${m.toUpperCase()} ${path}`));

describe("the API description", () => {
	let shop: Shop;
	let doc: Doc;

	beforeAll(async () => {
		shop = await startShop([...SERVICE_NAMES], { NAMESPACE: `t-openapi-${Date.now()}-${Math.random()}` });
		const res = await http<Doc>(shop.url, "GET", "/api/openapi.json");
		expect(res.status).toBe(200);
		doc = res.body;
	}, 60_000);
	afterAll(() => shop.stop());

	it("is a valid OpenAPI 3.1 document whose schemas are valid JSON Schema 2020-12", async () => {
		expect(doc.openapi).toBe("3.1.0");
		const report = await validate(doc);
		expect(report.errors).toEqual([]);
		expect(report.valid).toBe(true);
		expect(report.schemas).toBeGreaterThan(30);
	});

	it("is refused by the same validation when it is broken (the check can fail)", async () => {
		const broken = JSON.parse(JSON.stringify(doc)) as Doc;
		(broken.paths["/api/v1/cart/add"].post.requestBody as { content: Record<string, { schema: Record<string, unknown> }> }).content["application/json"].schema.type = "strnig";
		delete (broken as Record<string, unknown>).info;
		const report = await validate(broken);
		expect(report.valid).toBe(false);
		const errors = JSON.stringify(report.errors);
		expect(errors).toContain("must have required property 'info'");
		expect(errors).toContain("/api/v1/cart/add/post/requestBody/content/application/json/schema");
	});

	it("documents exactly the gateway's declared routes, each with its action", () => {
		const api = shop.broker.getLocalService("api") as unknown as { settings: { routes: Array<{ path: string; aliases: Record<string, string> }> } };
		const declared = new Map<string, string>();
		for (const route of api.settings.routes)
			for (const [alias, action] of Object.entries(route.aliases)) {
				const [method, path] = alias.split(" ");
				const full = `${route.path.replace(/\/$/, "")}${path}`.replace(/:(\w+)/g, "{$1}");
				declared.set(`${method} ${full}`, action);
			}
		expect(documented(doc).sort()).toEqual([...declared.keys()].sort());
		for (const [key, action] of declared) {
			const [method, path] = key.split(" ");
			expect(doc.paths[path][method.toLowerCase()]["x-action"]).toBe(action);
		}
	});

	it("has every documented route answered by the gateway, not by its 'no such route' 404", async () => {
		const isNoRoute = (res: { status: number; body: unknown }): boolean => res.status === 404 && (res.body as { type?: string } | null)?.type === "NOT_FOUND";
		expect(isNoRoute(await http(shop.url, "GET", "/api/v1/no-such-route"))).toBe(true);
		for (const op of documented(doc)) {
			const [method, path] = op.split(" ");
			const res = await http(shop.url, method, path.replace(/\{\w+\}/g, "probe"), method === "GET" ? {} : { body: {} });
			if (isNoRoute(res)) throw new Error(`${op} is documented but the gateway has no such route`);
		}
	});

	it("says who may call each route and what each can answer", () => {
		const profile = doc.paths["/api/v1/account/profile"].put;
		expect(profile.security).toEqual([{ bearerAuth: [] }]);
		expect(Object.keys(profile.responses as object)).toEqual(expect.arrayContaining(["2XX", "400", "401", "422", "429", "503", "default"]));
		const create = doc.paths["/api/v1/products"].post;
		expect(create["x-roles"]).toEqual(["admin"]);
		expect(create.responses).toHaveProperty("403");
		const list = doc.paths["/api/v1/products"].get;
		expect(list.security).toEqual([{}, { bearerAuth: [] }]);
		expect(list.responses).not.toHaveProperty("403");
		expect(list.parameters).toEqual(expect.arrayContaining([{ name: "page_size", in: "query", required: false, schema: expect.objectContaining({ type: "integer", maximum: 100 }) }]));
		const restock = doc.paths["/api/v1/inventory/{product_id}/restock"].post;
		expect(restock.parameters).toEqual([expect.objectContaining({ name: "product_id", in: "path", required: true })]);
		expect(restock.requestBody).toMatchObject({ required: true, content: { "application/json": { schema: { type: "object", required: ["warehouse_id", "quantity"] } } } });
		expect(doc.paths["/health/live"].get).not.toHaveProperty("security");
	});

	it("describes a service and a route that join later without an edit", async () => {
		await shop.broker.call("api.addRoute", { route: { path: "/api/probe", aliases: { "POST /things/:id": "probe.make" } } });
		shop.broker.createService({
			name: "probe",
			actions: { make: { roles: ["admin"], params: { id: "string", size: { type: "number", integer: true, min: 1 } }, handler: () => ({}) } },
		});
		await eventually(async () => {
			const res = await http<Doc>(shop.url, "GET", "/api/openapi.json");
			const op = res.body.paths["/api/probe/things/{id}"]?.post;
			expect(op).toMatchObject({ "x-action": "probe.make", "x-roles": ["admin"] });
			expect(op.requestBody).toMatchObject({ content: { "application/json": { schema: { properties: { size: { type: "integer", minimum: 1 } } } } } });
		}, 5000);
	});

	it("renders every operation on /api/docs as a page that loads nothing from elsewhere", async () => {
		const res = await fetch(`${shop.url}/api/docs`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
		expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
		const html = await res.text();
		expect(html).not.toMatch(/<script|<link|src=/i);
		for (const [path] of Object.entries(doc.paths)) expect(html).toContain(`<code>${path}</code>`);
	});
});
