import { buildDocument, openApiPath, type ActionDeclaration, type GatewayRoute } from "../../../../../services/api/openapi/document";
import { actionLookup, gatewayRoutes } from "../../../../../services/api/openapi/gateway";
import { escapeHtml, renderDocsHtml } from "../../../../../services/api/openapi/html";

const v1 = (method: string, path: string, action: string): GatewayRoute => ({ method, path: `/api/v1${path}`, action, authenticated: true, jsonBody: true, rateLimited: true });
const actions: Record<string, ActionDeclaration> = {
	"products.list": { params: { category: { type: "string", optional: true }, page: { type: "number", integer: true, default: 1, convert: true } } },
	"products.create": { roles: ["admin"], params: { $$root: true, type: "object", strict: "remove", props: { name: { type: "string", min: 1 }, id: { type: "string", optional: true } } } },
	"cart.update": { auth: "required", params: { product_id: { type: "string", max: 100 }, quantity: { type: "number", min: 0 } } },
	"cart.clear": { auth: "required" },
	"products.remove": { auth: "required", owned: "shop", params: { id: { type: "string" } } },
	"settings.setFlag": { roles: ["admin"], feature: "admin", params: { name: { type: "string" }, enabled: { type: "boolean" } } },
};
const lookup = (name: string): ActionDeclaration | undefined => actions[name];
type Op = Record<string, unknown> & { responses: Record<string, unknown>; parameters: Array<Record<string, unknown>> };
const opOf = (doc: ReturnType<typeof buildDocument>, method: string, path: string): Op => doc.paths[path][method] as Op;

describe("openApiPath", () => {
	it("writes moleculer-web's path parameters the OpenAPI way", () => {
		expect(openApiPath("/api/v1/cart/items/:product_id")).toEqual({ path: "/api/v1/cart/items/{product_id}", names: ["product_id"] });
		expect(openApiPath("/a/:id(\\d+)/b/:name?")).toEqual({ path: "/a/{id}/b/{name}", names: ["id", "name"] });
	});
});

describe("buildDocument", () => {
	const routes = [
		v1("GET", "/products", "products.list"),
		v1("GET", "/catalog", "products.list"),
		v1("POST", "/products", "products.create"),
		v1("PUT", "/cart/items/:product_id", "cart.update"),
		v1("DELETE", "/cart", "cart.clear"),
		v1("DELETE", "/products/:id", "products.remove"),
		v1("PUT", "/admin/flags/:name", "settings.setFlag"),
		v1("POST", "/vouchers", "vouchers.create"),
		{ method: "GET", path: "/health/live", action: "api.live", authenticated: false, jsonBody: false, rateLimited: false },
	];
	const doc = buildDocument({ title: "T", version: "1", routes, action: lookup });

	it("describes every route once, under its OpenAPI path", () => {
		const ops = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map(m => `${m} ${p}`));
		expect(ops.sort()).toEqual(
			["get /api/v1/products", "get /api/v1/catalog", "post /api/v1/products", "put /api/v1/cart/items/{product_id}", "delete /api/v1/cart", "delete /api/v1/products/{id}", "put /api/v1/admin/flags/{name}", "post /api/v1/vouchers", "get /health/live"].sort(),
		);
		expect(doc.openapi).toBe("3.1.0");
	});

	it("gives an action behind two routes an id per route, and others their action's name", () => {
		expect(opOf(doc, "get", "/api/v1/products").operationId).not.toBe(opOf(doc, "get", "/api/v1/catalog").operationId);
		expect(opOf(doc, "post", "/api/v1/products").operationId).toBe("products.create");
	});

	it("puts a read's params in the query and a write's in the body, path parameters in the path", () => {
		const list = opOf(doc, "get", "/api/v1/products");
		expect(list.parameters).toEqual([
			{ name: "category", in: "query", required: false, schema: { type: "string" } },
			{ name: "page", in: "query", required: false, schema: { type: "integer", default: 1, "x-convert": true } },
		]);
		expect(list).not.toHaveProperty("requestBody");
		const update = opOf(doc, "put", "/api/v1/cart/items/{product_id}");
		expect(update.parameters).toEqual([{ name: "product_id", in: "path", required: true, schema: { type: "string", maxLength: 100 } }]);
		expect(update.requestBody).toEqual({
			required: true,
			content: { "application/json": { schema: { type: "object", properties: { quantity: { type: "number", minimum: 0 } }, required: ["quantity"] } } },
		});
	});

	it("says who may call: anyone (a token optional), a signed-in user, or a role", () => {
		expect(opOf(doc, "get", "/api/v1/products").security).toEqual([{}, { bearerAuth: [] }]);
		expect(opOf(doc, "delete", "/api/v1/cart").security).toEqual([{ bearerAuth: [] }]);
		const create = opOf(doc, "post", "/api/v1/products");
		expect(create.security).toEqual([{ bearerAuth: [] }]);
		expect(create["x-roles"]).toEqual(["admin"]);
		expect(create.description).toContain("admin role");
		expect(opOf(doc, "get", "/health/live")).not.toHaveProperty("security");
		expect(doc.components).toMatchObject({ securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } });
	});

	it("lists the statuses the gateway gives each route by what it declares", () => {
		const statuses = (method: string, path: string): string[] => Object.keys(opOf(doc, method, path).responses).sort();
		expect(statuses("get", "/api/v1/products")).toEqual(["2XX", "401", "422", "429", "503", "default"]);
		expect(statuses("post", "/api/v1/products")).toEqual(["2XX", "400", "401", "403", "413", "415", "422", "429", "503", "default"]);
		// No params: no 422; a JSON route still refuses an unreadable body.
		expect(statuses("delete", "/api/v1/cart")).toEqual(["2XX", "400", "401", "413", "415", "429", "503", "default"]);
		expect(statuses("put", "/api/v1/cart/items/{product_id}")).toContain("404");
		// Any signed-in user may call it, but only the shop's owner (or an admin) changes anything.
		expect(statuses("delete", "/api/v1/products/{id}")).toContain("403");
		expect(statuses("get", "/health/live")).toEqual(["2XX", "503", "default"]);
		expect(opOf(doc, "post", "/api/v1/products").responses["422"]).toEqual({ $ref: "#/components/responses/ValidationFailed" });
	});

	it("names the feature an action belongs to and an action no node offers", () => {
		expect(opOf(doc, "put", "/api/v1/admin/flags/{name}")["x-feature"]).toBe("admin");
		expect(opOf(doc, "put", "/api/v1/admin/flags/{name}").description).toContain("FEATURE_DISABLED");
		const missing = opOf(doc, "post", "/api/v1/vouchers");
		expect(missing["x-unavailable"]).toBe(true);
		expect(missing.responses).toHaveProperty("503");
	});

	it("describes the one error shape and the validation errors that name their fields", () => {
		const components = doc.components as { schemas: Record<string, Record<string, unknown>>; responses: Record<string, Record<string, unknown>> };
		expect(components.schemas.Error).toMatchObject({ required: ["name", "message", "code"], properties: { code: { type: "integer" }, type: { type: "string" } } });
		expect(JSON.stringify(components.schemas.ValidationError)).toContain('"field"');
		expect(components.responses.TooManyRequests).toHaveProperty("headers.Retry-After");
	});
});

describe("gatewayRoutes and actionLookup", () => {
	it("joins moleculer-web's aliases with the options of their routes", () => {
		const routes = [
			{ path: "/", opts: { authentication: false, bodyParsers: false } },
			{ path: "/api/v1", opts: { authentication: true, bodyParsers: { json: { strict: false } }, rateLimit: { limit: 1 } } },
		];
		const aliases = [
			{ actionName: "api.live", fullPath: "/health/live", methods: "GET", routePath: "/" },
			{ actionName: "cart.add", fullPath: "/api/v1/cart/add", methods: "POST", routePath: "/api/v1" },
			{ actionName: null, fullPath: "/api/v1/fn", methods: "GET", routePath: "/api/v1" },
		];
		expect(gatewayRoutes(aliases, routes)).toEqual([
			{ method: "GET", path: "/health/live", action: "api.live", authenticated: false, jsonBody: false, rateLimited: false },
			{ method: "POST", path: "/api/v1/cart/add", action: "cart.add", authenticated: true, jsonBody: true, rateLimited: true },
		]);
	});

	it("finds an action's declaration in the registry's list, and nothing for one no node offers", () => {
		const lookupOf = actionLookup([{ name: "cart.add", action: { auth: "required", params: { q: "number" } } }, { name: "x.y", action: null }]);
		expect(lookupOf("cart.add")).toEqual({ auth: "required", params: { q: "number" } });
		expect(lookupOf("x.y")).toBeUndefined();
		expect(lookupOf("nope.nope")).toBeUndefined();
	});
});

describe("renderDocsHtml", () => {
	it("lists every operation, escapes what it shows and loads nothing", () => {
		const doc = buildDocument({
			title: "Shop <b>",
			version: "1",
			routes: [v1("GET", "/products", "products.list"), v1("POST", "/products", "products.create")],
			action: name => (name === "products.create" ? { ...actions[name], params: { name: { type: "string", pattern: /^<script>$/ } } } : actions[name]),
		});
		const html = renderDocsHtml(doc);
		expect(html).toContain("<code>/api/v1/products</code>");
		expect(html).toContain('class="m get">GET');
		expect(html).toContain('class="m post">POST');
		expect(html).toContain("Shop &lt;b&gt;");
		expect(html).not.toMatch(/<script|<link|src=/i);
		expect(html).toContain("Signed in, but without the role");
	});

	it("escapes the characters that mean something in HTML", () => {
		expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	});
});
