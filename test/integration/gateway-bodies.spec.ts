/**
 * Request bodies that parse but are not an object of fields, through the real gateway (audit D8, D9): a body
 * that is an array, null, a string or a number, and a body with a `__proto__` key (which moleculer-web's
 * Object.assign would turn into the params' prototype), answer 400 INVALID_BODY naming the problem, and
 * nothing is written.
 */
import { http, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface ErrorBody {
	code: number;
	type: string;
	message: string;
	data: { field: string };
}
interface CartBody {
	items: Array<{ product_id: string; quantity: number }>;
}
interface ProfileBody {
	name: string;
	updated_at: string;
}

describe("bodies that are not an object of fields", () => {
	let shop: Shop;
	let customer: { token: string };
	const send = <T = ErrorBody>(method: string, path: string, raw: string) => http<T>(shop.url, method, `/api/v1${path}`, { raw, token: customer.token });
	const get = <T>(path: string) => http<T>(shop.url, "GET", `/api/v1${path}`, { token: customer.token });

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "cart"], { NAMESPACE: `t-bodies-${Date.now()}-${Math.random()}` });
		await shop.broker.call("products.seedDemo", {});
		customer = await registerCustomer(shop.url);
	});
	afterAll(() => shop.stop());

	it("refuses a __proto__ key that would smuggle a quantity into /cart/add, naming the key, and adds nothing", async () => {
		const res = await send("POST", "/cart/add", '{"product_id":"laptop-123","__proto__":{"quantity":5}}');
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ code: 400, type: "INVALID_BODY", data: { field: "__proto__" } });
		expect(res.body.message).toContain("'__proto__'");
		expect((await get<CartBody>("/cart")).body.items).toEqual([]);
		// An ordinary add still works.
		expect((await send("POST", "/cart/add", '{"product_id":"laptop-123","quantity":1}')).status).toBe(200);
		expect((await get<CartBody>("/cart")).body.items).toMatchObject([{ product_id: "laptop-123", quantity: 1 }]);
	});

	it("refuses a __proto__ key deeper in the body, naming where it is", async () => {
		const before = (await get<ProfileBody>("/account/profile")).body;
		const res = await send("PUT", "/account/profile", '{"name":"Ann","preferences":[{"__proto__":{"x":1}}]}');
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ type: "INVALID_BODY", data: { field: "preferences[0].__proto__" } });
		expect((await get<ProfileBody>("/account/profile")).body).toEqual(before);
	});

	it("refuses a value nested 5,000 deep with 400 naming the field, where the validator's message overflowed the stack (500)", async () => {
		const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
		const res = await send("POST", "/cart/add", `{"product_id":${deep},"quantity":1}`);
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ code: 400, type: "INVALID_BODY", data: { field: "product_id" } });
		expect(res.body.message).toMatch(/nested deeper than 32/);
		expect((await get<CartBody>("/cart")).body.items).toMatchObject([{ product_id: "laptop-123", quantity: 1 }]);
	});

	it.each([
		["[]", "an array"],
		["[[[[[[[[[[]]]]]]]]]]", "an array"],
		["null", "null"],
		['"x"', "a string"],
		["3", "a number"],
		["true", "a boolean"],
	])("answers PUT /account/profile with body %s 400 INVALID_BODY naming the body, and changes nothing", async (raw, what) => {
		const before = (await get<ProfileBody>("/account/profile")).body;
		const res = await send("PUT", "/account/profile", raw);
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ code: 400, type: "INVALID_BODY", data: { field: "body" } });
		expect(res.body.message).toBe(`The request body must be an object of fields, not ${what}`);
		expect((await get<ProfileBody>("/account/profile")).body).toEqual(before);
	});

	it("still answers a body that is not JSON at all 400 INVALID_JSON, and an ordinary update 200", async () => {
		expect((await send("PUT", "/account/profile", "{name:")).body).toMatchObject({ code: 400, type: "INVALID_JSON" });
		const ok = await send<ProfileBody>("PUT", "/account/profile", '{"name":"Ann Other"}');
		expect(ok.status).toBe(200);
		expect(ok.body.name).toBe("Ann Other");
	});

	it("names the value sent and the values allowed when a field takes one of a list", async () => {
		const res = await send("PUT", "/account/profile", '{"notification_channel":"pigeon"}');
		expect(res.status).toBe(422);
		expect(res.body.message).toContain("The 'notification_channel' field must be one of email, sms, push; 'pigeon' is not.");
	});
});
