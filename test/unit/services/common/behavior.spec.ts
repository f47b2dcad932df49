import { BehaviorParseError, formatBehavior, parseBehavior } from "../../../../services/common/behavior";

function parseError(input: string): BehaviorParseError {
	try {
		parseBehavior(input);
	} catch (err) {
		if (err instanceof BehaviorParseError) return err;
		throw err;
	}
	throw new Error(`"${input}" parsed without error`);
}

describe("parseBehavior: the documented examples", () => {
	it("reads payment:error=503:0.5 as 503 in half of the calls to payments", () => {
		expect(parseBehavior("payment:error=503:0.5")).toEqual({ payments: { error: { code: 503, probability: 0.5 } } });
	});

	it("reads error=0.2 as a 500 in 20% of the calls to every service", () => {
		expect(parseBehavior("error=0.2")).toEqual({ "*": { error: { code: 500, probability: 0.2 } } });
	});

	it("reads inventory:latency=500-1000ms as a uniform delay range", () => {
		expect(parseBehavior("inventory:latency=500-1000ms")).toEqual({ inventory: { latency: { min: 500, max: 1000 } } });
	});

	it("reads 1s-3s and 50ms durations", () => {
		expect(parseBehavior("latency=1s-3s")).toEqual({ "*": { latency: { min: 1000, max: 3000 } } });
		expect(parseBehavior("latency=50ms")).toEqual({ "*": { latency: { min: 50, max: 50 } } });
	});

	it("keeps global tokens global and gives later key=value tokens to the section before them", () => {
		expect(parseBehavior("latency=20-100ms,error=0.05,payment:error=0.1,inventory:latency=100-500ms,message-bus:error=0.15")).toEqual({
			"*": { latency: { min: 20, max: 100 }, error: { code: 500, probability: 0.05 } },
			payments: { error: { code: 500, probability: 0.1 } },
			inventory: { latency: { min: 100, max: 500 } },
			"message-bus": { error: { code: 500, probability: 0.15 } },
		});
	});

	it("accepts Moleculer names as well as seed names, in any case", () => {
		expect(parseBehavior("payments:error=0.5")).toEqual(parseBehavior("PAYMENT:error=0.5"));
		expect(parseBehavior("orders:latency=10ms")).toEqual(parseBehavior("order-management:latency=10ms"));
	});

	it("reads an empty string as no faults", () => {
		expect(parseBehavior("")).toEqual({});
		expect(parseBehavior("  ")).toEqual({});
	});
});

describe("parseBehavior: the eight seed scenarios of issue 5", () => {
	it.each([
		["scenario 1 (none)", "", {}],
		["scenario 2", "payment:error=503:0.5", { payments: { error: { code: 503, probability: 0.5 } } }],
		["scenario 3", "inventory:latency=500-1000ms", { inventory: { latency: { min: 500, max: 1000 } } }],
		[
			"scenario 4",
			"payment:error=0.2,latency=100-300ms,inventory:error=0.15,shipping:latency=200-500ms",
			{
				payments: { error: { code: 500, probability: 0.2 }, latency: { min: 100, max: 300 } },
				inventory: { error: { code: 500, probability: 0.15 } },
				shipping: { latency: { min: 200, max: 500 } },
			},
		],
		[
			"scenario 5",
			"order-management:latency=100-200ms,payment:latency=150-300ms,inventory:latency=80-150ms",
			{
				orders: { latency: { min: 100, max: 200 } },
				payments: { latency: { min: 150, max: 300 } },
				inventory: { latency: { min: 80, max: 150 } },
			},
		],
		[
			"scenario 6",
			"message-bus:error=0.3,latency=50-200ms",
			{ "message-bus": { error: { code: 500, probability: 0.3 }, latency: { min: 50, max: 200 } } },
		],
		[
			"scenario 7",
			"search:latency=1s-3s,error=0.1",
			{ search: { latency: { min: 1000, max: 3000 }, error: { code: 500, probability: 0.1 } } },
		],
		[
			"scenario 8",
			"latency=20-100ms,error=0.05,payment:error=0.1,inventory:latency=100-500ms,message-bus:error=0.15",
			{
				"*": { latency: { min: 20, max: 100 }, error: { code: 500, probability: 0.05 } },
				payments: { error: { code: 500, probability: 0.1 } },
				inventory: { latency: { min: 100, max: 500 } },
				"message-bus": { error: { code: 500, probability: 0.15 } },
			},
		],
	])("parses %s into its per-service rules", (_name, input, expected) => {
		expect(parseBehavior(input)).toEqual(expected);
	});

	it("formats a behavior back into a string with the same rules", () => {
		const input = "latency=20-100ms,error=0.05,payment:error=503:0.1,inventory:latency=100-500ms,message-bus:error=0.15";
		expect(parseBehavior(formatBehavior(parseBehavior(input)))).toEqual(parseBehavior(input));
	});
});

describe("parseBehavior: more forms a user may write", () => {
	it("reads a bare status code as that error on every call", () => {
		expect(parseBehavior("payment:error=503")).toEqual({ payments: { error: { code: 503, probability: 1 } } });
	});

	it("reads a bare number of milliseconds and mixed units", () => {
		expect(parseBehavior("latency=250")).toEqual({ "*": { latency: { min: 250, max: 250 } } });
		expect(parseBehavior("latency=500ms-1s")).toEqual({ "*": { latency: { min: 500, max: 1000 } } });
		expect(parseBehavior("latency=1-2s")).toEqual({ "*": { latency: { min: 1000, max: 2000 } } });
	});

	it("tolerates spaces around tokens", () => {
		expect(parseBehavior(" payment : error = 503:0.5 , latency=10ms ")).toEqual({
			payments: { error: { code: 503, probability: 0.5 }, latency: { min: 10, max: 10 } },
		});
	});
});

describe("parseBehavior: malformed strings name the bad token", () => {
	it.each([
		["unknown service", "payment:error=0.1,warehouse:latency=10ms", "warehouse:latency=10ms", /unknown service "warehouse"/],
		["bad number", "inventory:latency=fastms", "inventory:latency=fastms", /not a duration/],
		["bad probability number", "error=half", "error=half", /not a probability/],
		["probability above 1", "payment:error=503:1.5", "payment:error=503:1.5", /above 1/],
		["bare probability above 1", "error=1.5", "error=1.5", /above 1/],
		["minimum above maximum", "latency=1000-500ms", "latency=1000-500ms", /above maximum/],
		["unknown key", "payment:timeout=5s", "payment:timeout=5s", /unknown key "timeout"/],
		["empty section", "payment:,inventory:latency=10ms", "payment:", /empty section/],
		["a token without =", "payment:error=0.1,slow", "slow", /key=value/],
		["an empty token", "error=0.1,,latency=5ms", "", /empty token/],
		["a status code out of range", "error=700:0.5", "error=700:0.5", /status code/],
		["a latency beyond the cap", "latency=5m", "latency=5m", /not a duration/],
		["a latency too long", "latency=120s", "latency=120s", /capped/],
		["a key given twice", "payment:error=0.1,error=0.2", "error=0.2", /twice/],
	])("refuses %s", (_name, input, token, reason) => {
		const err = parseError(input);
		expect(err.token).toBe(token);
		expect(err.message).toContain(`"${token}"`);
		expect(err.message).toMatch(reason);
	});
});

describe("parseBehavior: names that Object.prototype carries are not services", () => {
	it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf"])(
		"refuses a %s section as an unknown service",
		name => {
			const err = parseError(`${name}:error=1`);
			expect(err.token).toBe(`${name}:error=1`);
			expect(err.message).toMatch(/unknown service/);
		},
	);

	it("leaves Object.prototype as it was after such a string", () => {
		expect(() => parseBehavior("__proto__:error=1,latency=5ms")).toThrow(BehaviorParseError);
		expect(({} as Record<string, unknown>).error).toBeUndefined();
		expect(({} as Record<string, unknown>).latency).toBeUndefined();
	});
});
