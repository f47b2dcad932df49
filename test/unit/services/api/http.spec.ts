import type { IncomingMessage } from "node:http";
import { asEncodingError, clientKey, describeError } from "../../../../services/api/http";

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
	it("answers a body that does not match its Content-Encoding (zlib's Z_DATA_ERROR) with a 400 naming the header", () => {
		const zlib = Object.assign(new Error("incorrect header check"), { code: "Z_DATA_ERROR" });
		const body = describeError(asEncodingError(zlib) as Parameters<typeof describeError>[0], true);
		expect(body).toMatchObject({ code: 400, type: "INVALID_CONTENT_ENCODING", data: { field: "Content-Encoding" } });
	});

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
