import { BreakerOpenError, GatewayBreaker } from "../../../../services/payments/breaker";
import { GatewayUnavailableError } from "../../../../services/payments/gateway";

describe("GatewayBreaker", () => {
	let breaker: GatewayBreaker;
	afterEach(() => breaker.shutdown());

	it("passes results through while closed", async () => {
		breaker = new GatewayBreaker("t", { volumeThreshold: 2 });
		await expect(breaker.run(async () => 42)).resolves.toBe(42);
		expect(breaker.state).toBe("CLOSED");
	});

	it("opens after enough failures and then fails fast without calling the operation", async () => {
		breaker = new GatewayBreaker("t", { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 });
		const failing = jest.fn(async () => {
			throw new GatewayUnavailableError();
		});
		for (let i = 0; i < 3; i++) await expect(breaker.run(failing)).rejects.toBeInstanceOf(GatewayUnavailableError);
		expect(breaker.state).toBe("OPEN");
		const calls = failing.mock.calls.length;
		await expect(breaker.run(failing)).rejects.toBeInstanceOf(BreakerOpenError);
		expect(failing.mock.calls.length).toBe(calls);
		expect(breaker.snapshot()).toMatchObject({ state: "OPEN", stats: { failures: 3 } });
	});

	it("lets a probe through after the reset timeout and closes when it succeeds", async () => {
		breaker = new GatewayBreaker("t", { volumeThreshold: 1, resetTimeoutMs: 50 });
		await expect(breaker.run(async () => Promise.reject(new GatewayUnavailableError()))).rejects.toThrow();
		expect(breaker.state).toBe("OPEN");
		await new Promise(r => setTimeout(r, 80));
		expect(breaker.state).toBe("HALF_OPEN");
		await expect(breaker.run(async () => "ok")).resolves.toBe("ok");
		expect(breaker.state).toBe("CLOSED");
	});

	it("turns a slow call into a gateway failure", async () => {
		breaker = new GatewayBreaker("t", { timeoutMs: 20 });
		await expect(breaker.run(() => new Promise(r => setTimeout(r, 200)))).rejects.toBeInstanceOf(GatewayUnavailableError);
	});
});
