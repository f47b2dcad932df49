import type { IncomingMessage } from "node:http";
import type { Context } from "moleculer";
import { applyBehavior, behaviorString, gatewayBehavior } from "../../../../services/api/behavior";
import { testConfig } from "../../../helpers/shop";
import type { ShopMeta } from "../../../../services/common/meta";

function request(query: Record<string, unknown>, headers: Record<string, string> = {}, params: Record<string, unknown> = {}): IncomingMessage {
	return { query, headers, $params: { ...params, ...query } } as unknown as IncomingMessage;
}

describe("the gateway's behavior reading", () => {
	const config = testConfig();

	it("puts the parsed rules in ctx.meta and keeps behavior out of the action's params", () => {
		const req = request({ behavior: "payment:error=503:0.5", q: "laptop" });
		const ctx = { meta: {} } as Context<unknown, ShopMeta>;
		applyBehavior(ctx, req, config);
		expect(ctx.meta.behavior).toEqual({ payments: { error: { code: 503, probability: 0.5 } } });
		expect((req as unknown as { $params: Record<string, unknown> }).$params).toEqual({ q: "laptop" });
	});

	it("reads the X-Behavior header when the query has none, and prefers the query", () => {
		expect(behaviorString(request({}, { "x-behavior": "error=0.1" }) as never)).toBe("error=0.1");
		expect(behaviorString(request({ behavior: "latency=5ms" }, { "x-behavior": "error=0.1" }) as never)).toBe("latency=5ms");
		expect(behaviorString(request({}) as never)).toBeNull();
	});

	it("treats an empty behavior as none", () => {
		expect(gatewayBehavior("", config)).toBeNull();
		expect(gatewayBehavior(null, { behaviorEnabled: false })).toBeNull();
	});

	it("refuses a malformed behavior with 400 naming the token", () => {
		expect(() => gatewayBehavior("payment:error=2", config)).toThrow(expect.objectContaining({ code: 400, type: "INVALID_BEHAVIOR", data: expect.objectContaining({ token: "payment:error=2" }) }));
	});

	it("refuses a repeated behavior parameter", () => {
		expect(() => behaviorString(request({ behavior: ["a", "b"] }) as never)).toThrow(expect.objectContaining({ code: 400 }));
	});

	it("refuses any behavior when fault injection is disabled", () => {
		expect(() => gatewayBehavior("latency=5ms", { behaviorEnabled: false })).toThrow(expect.objectContaining({ code: 403, type: "BEHAVIOR_DISABLED" }));
	});
});

describe("the gateway's behavior reading, for names on Object.prototype", () => {
	it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("refuses ?behavior=%s:error=1 with 400 like an unknown service", name => {
		expect(() => gatewayBehavior(`${name}:error=1`, testConfig())).toThrow(
			expect.objectContaining({ code: 400, type: "INVALID_BEHAVIOR", data: expect.objectContaining({ token: `${name}:error=1` }) }),
		);
	});
});
