import type { IncomingMessage, ServerResponse } from "node:http";
import { bodyParserErrors, clientKey, correlationId, describeError, retryAfterSeconds } from "../../../../services/api/http";

const req = (headers: Record<string, string>, remoteAddress = "10.0.0.9") => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe("clientKey", () => {
	it("keys a client by its socket address and ignores X-Forwarded-For unless the proxy is trusted", () => {
		expect(clientKey(req({ "x-forwarded-for": "203.0.113.1" }), false)).toBe("ip:10.0.0.9");
		expect(clientKey(req({ "x-forwarded-for": "203.0.113.2" }), false)).toBe("ip:10.0.0.9");
	});

	it("takes the first X-Forwarded-For address behind a trusted proxy", () => {
		expect(clientKey(req({ "x-forwarded-for": "203.0.113.1, 10.0.0.1" }), true)).toBe("ip:203.0.113.1");
		expect(clientKey(req({}), true)).toBe("ip:10.0.0.9");
	});
});

describe("describeError", () => {

	it("names every invalid field and drops the offending values", () => {
		const body = describeError(
			{
				name: "ValidationError",
				message: "Parameters validation error!",
				code: 422,
				type: "VALIDATION_ERROR",
				data: [{ field: "password", message: "The 'password' field length must be greater than or equal to 8 characters long.", type: "stringMin", actual: "hunter2" }],
			},
			false,
		);
		expect(body.message).toContain("'password'");
		expect(JSON.stringify(body)).not.toContain("hunter2");
	});

	it("hides the message of an internal error in production", () => {
		expect(describeError({ name: "Error", message: "ENOENT /secret/path", code: 500 }, true).message).toBe("Internal server error");
		expect(describeError({ name: "Error", message: "boom", code: 500 }, false).message).toBe("boom");
	});
});

describe("correlationId", () => {
	const headers = (h: Record<string, string | string[]>) => ({ headers: h }) as unknown as IncomingMessage;

	it("keeps a client's bounded request id of safe characters", () => {
		expect(correlationId(headers({ "x-request-id": "order-page_42:abc" }))).toBe("order-page_42:abc");
		expect(correlationId(headers({ "x-correlation-id": "c-1" }))).toBe("c-1");
	});

	it("drops an id that is too long, repeated or holds other characters", () => {
		expect(correlationId(headers({ "x-request-id": "x".repeat(129) }))).toBeUndefined();
		expect(correlationId(headers({ "x-request-id": "a, b" }))).toBeUndefined();
		expect(correlationId(headers({ "x-request-id": ["a", "b"] }))).toBeUndefined();
		expect(correlationId(headers({ "x-request-id": "<script>" }))).toBeUndefined();
		expect(correlationId(headers({}))).toBeUndefined();
	});
});

describe("bodyParserErrors", () => {
	const run = (err: unknown): unknown => {
		let passed: unknown;
		bodyParserErrors(err, {} as IncomingMessage, {} as ServerResponse, e => (passed = e));
		return passed;
	};

	it("turns a body that does not inflate into a 400 instead of a 500", () => {
		const zlib = Object.assign(new Error("incorrect header check"), { code: "Z_DATA_ERROR", status: 400, statusCode: 400 });
		expect(run(zlib)).toMatchObject({ code: 400, type: "UNREADABLE_BODY" });
	});

	it("keeps the status of malformed JSON and of a body over the limit", () => {
		expect(run(Object.assign(new SyntaxError("Unexpected token"), { status: 400, type: "entity.parse.failed" }))).toMatchObject({ code: 400 });
		expect(run(Object.assign(new Error("too large"), { status: 413, type: "entity.too.large" }))).toMatchObject({ code: 413 });
	});
});

describe("retryAfterSeconds", () => {
	const res = (reset?: number) => ({ getHeader: (n: string) => (n === "X-Rate-Limit-Reset" ? reset : undefined) }) as unknown as ServerResponse;

	it("takes the error's own hint, else the rate limit's reset, else one second", () => {
		expect(retryAfterSeconds({ data: { retry_after: 30 } }, res())).toBe(30);
		expect(retryAfterSeconds({}, res(10_500), 1_000)).toBe(10);
		expect(retryAfterSeconds({}, res())).toBe(1);
	});
});
