import {
	SagaEngine,
	backoffDelay,
	classifyError,
	createSagaState,
	stepKey,
	type SagaDefinition,
	type SagaState,
	type StepContext,
} from "../../../../mixins/saga/engine";

type Data = { order: string };

class BizError extends Error {
	readonly code = 409;
	readonly type = "INSUFFICIENT_STOCK";
	readonly retryable = false;
}
class TechError extends Error {
	readonly code = 503;
	readonly type = "SERVICE_UNAVAILABLE";
	readonly retryable = true;
}

/** A saga of named steps that record their calls; `fail` makes a step's action throw. */
function recorder(names: string[], fail: Record<string, Error> = {}, compFailures: Record<string, number> = {}) {
	const calls: string[] = [];
	const keys: string[] = [];
	const def: SagaDefinition<Data> = {
		name: "test",
		steps: names.map(name => ({
			name,
			async action(c: StepContext<Data>) {
				calls.push(`${name}`);
				keys.push(c.idempotencyKey);
				if (fail[name]) throw fail[name];
				return { id: `${name}-result` };
			},
			async compensation(c: StepContext<Data>) {
				calls.push(`undo ${name}`);
				keys.push(c.idempotencyKey);
				if ((compFailures[name] ?? 0) > 0) {
					compFailures[name] -= 1;
					throw new TechError(`undo ${name} failed`);
				}
			},
		})),
	};
	return { def, calls, keys };
}

function engine(saves: Array<SagaState<Data>> = []) {
	return new SagaEngine<Data>({
		save: async s => {
			saves.push(structuredClone(s));
		},
		backoff: { initialMs: 1, maxMs: 5, factor: 2 },
	});
}

describe("saga engine", () => {
	it("runs every step in order and completes", async () => {
		const { def, calls } = recorder(["a", "b", "c"]);
		const state = await engine().run(def, createSagaState(def, "s1", { order: "o1" }));
		expect(calls).toEqual(["a", "b", "c"]);
		expect(state.status).toBe("COMPLETED");
		expect(state.steps.map(s => s.status)).toEqual(["DONE", "DONE", "DONE"]);
		expect(state.steps[0].result).toEqual({ id: "a-result" });
		expect(state.finished_at).toEqual(expect.any(String));
	});

	it("compensates the completed steps in reverse order when a step fails with a business error", async () => {
		const { def, calls } = recorder(["a", "b", "c", "d"], { c: new BizError("out of stock") });
		const state = await engine().run(def, createSagaState(def, "s2", { order: "o2" }));
		expect(calls).toEqual(["a", "b", "c", "undo b", "undo a"]);
		expect(state.status).toBe("COMPENSATED");
		expect(state.failed_step).toBe("c");
		expect(state.steps.map(s => s.status)).toEqual(["COMPENSATED", "COMPENSATED", "FAILED", "PENDING"]);
		expect(state.steps[2].error).toMatchObject({ code: 409, type: "INSUFFICIENT_STOCK", retryable: false, kind: "business" });
	});

	it("also compensates a step whose technical failure leaves its outcome unknown", async () => {
		const { def, calls } = recorder(["a", "b", "c"], { b: new TechError("timeout") });
		const state = await engine().run(def, createSagaState(def, "s3", { order: "o3" }));
		expect(calls).toEqual(["a", "b", "undo b", "undo a"]);
		expect(state.steps[1]).toMatchObject({ status: "COMPENSATED", error: { kind: "technical", code: 503 } });
	});

	it("does not undo a step whose call never reached its target (no endpoint, open circuit)", async () => {
		const unreached = Object.assign(new Error("Service 'b.x' is not available."), { code: 404, type: "SERVICE_NOT_FOUND", retryable: true });
		const { def, calls } = recorder(["a", "b"], { b: unreached });
		const state = await engine().run(def, createSagaState(def, "s3b", { order: "o3b" }));
		expect(calls).toEqual(["a", "b", "undo a"]);
		expect(state.steps[1]).toMatchObject({ status: "FAILED", error: { kind: "technical", reached: false } });
	});

	it("retries a compensation that fails twice until it succeeds, with back-off", async () => {
		const { def, calls } = recorder(["a", "b"], { b: new BizError("declined") }, { a: 2 });
		const retries: number[] = [];
		const eng = new SagaEngine<Data>({
			save: async () => undefined,
			backoff: { initialMs: 1, maxMs: 5, factor: 2 },
			onRetry: (_what, _err, attempt) => retries.push(attempt),
		});
		const state = await eng.run(def, createSagaState(def, "s4", { order: "o4" }));
		expect(calls).toEqual(["a", "b", "undo a", "undo a", "undo a"]);
		expect(retries).toEqual([1, 2]);
		expect(state.steps[0]).toMatchObject({ status: "COMPENSATED", compensation_attempts: 3 });
		expect(state.steps[0].compensation_error).toBeUndefined();
		expect(state.status).toBe("COMPENSATED");
	});

	it("gives every call an idempotency key from the saga id and step name", async () => {
		const { def, keys } = recorder(["pay", "ship"], { ship: new BizError("no") });
		await engine().run(def, createSagaState(def, "saga_x", { order: "o" }));
		expect(keys).toEqual(["saga_x:pay", "saga_x:ship", "saga_x:pay:compensate"]);
		expect(stepKey("saga_x", "pay", true)).toBe("saga_x:pay:compensate");
	});

	it("saves the state after every change, with durations", async () => {
		const saves: Array<SagaState<Data>> = [];
		const { def } = recorder(["a", "b"]);
		await engine(saves).run(def, createSagaState(def, "s5", { order: "o5" }));
		expect(saves.map(s => `${s.status}:${s.steps.map(x => x.status).join(",")}`)).toEqual([
			"RUNNING:RUNNING,PENDING",
			"RUNNING:DONE,PENDING",
			"RUNNING:DONE,RUNNING",
			"RUNNING:DONE,DONE",
			"COMPLETED:DONE,DONE",
		]);
		expect(saves.at(-1)?.steps.every(s => s.duration >= 0 && s.started_at && s.finished_at)).toBe(true);
	});

	it("re-runs a step that was RUNNING when the node died, with the same idempotency key", async () => {
		const { def, calls, keys } = recorder(["a", "b", "c"]);
		const stored = createSagaState(def, "s6", { order: "o6" });
		stored.steps[0] = { ...stored.steps[0], status: "DONE", result: { id: "a-result" }, attempts: 1 };
		stored.steps[1] = { ...stored.steps[1], status: "RUNNING", attempts: 1 };
		const state = await engine().run(def, structuredClone(stored));
		expect(calls).toEqual(["b", "c"]);
		expect(keys).toEqual(["s6:b", "s6:c"]);
		expect(state.status).toBe("COMPLETED");
		expect(state.steps[1].attempts).toBe(2);
	});

	it("finishes the compensation of a saga that was COMPENSATING when the node died", async () => {
		const { def, calls } = recorder(["a", "b", "c"]);
		const stored = createSagaState(def, "s7", { order: "o7" });
		stored.status = "COMPENSATING";
		stored.failed_step = "c";
		stored.steps[0].status = "DONE";
		stored.steps[1].status = "COMPENSATING";
		stored.steps[2] = { ...stored.steps[2], status: "FAILED", error: classifyError(new BizError("x")) };
		const state = await engine().run(def, stored);
		expect(calls).toEqual(["undo b", "undo a"]);
		expect(state.status).toBe("COMPENSATED");
	});

	it("compensates instead of going on when the run is asked to abort", async () => {
		const { def, calls } = recorder(["a", "b", "c"]);
		let n = 0;
		const state = await engine().run(def, createSagaState(def, "s8", { order: "o8" }), {
			shouldAbort: () => (++n === 2 ? "CANCELLED" : null),
		});
		expect(calls).toEqual(["a", "undo a"]);
		expect(state).toMatchObject({ status: "COMPENSATED", abort_reason: "CANCELLED", failed_step: null });
	});

	it("stops a compensation that keeps failing when the engine is stopped, leaving it resumable", async () => {
		const { def, calls } = recorder(["a", "b"], { b: new BizError("no") }, { a: 1_000 });
		const saves: Array<SagaState<Data>> = [];
		const eng = new SagaEngine<Data>({
			save: async s => {
				saves.push(structuredClone(s));
			},
			backoff: { initialMs: 20, maxMs: 20, factor: 1 },
		});
		const run = eng.run(def, createSagaState(def, "s9", { order: "o9" }));
		await new Promise(r => setTimeout(r, 70));
		eng.stop();
		const state = await run;
		expect(state.status).toBe("COMPENSATING");
		expect(state.steps[0].status).toBe("COMPENSATING");
		expect(calls.filter(c => c === "undo a").length).toBeGreaterThanOrEqual(2);
		expect(saves.at(-1)?.status).toBe("COMPENSATING");
		// A fresh engine (another node) resumes it and finishes once the compensation succeeds.
		const { def: def2, calls: calls2 } = recorder(["a", "b"]);
		const resumed = await engine().run(def2, structuredClone(saves.at(-1) as SagaState<Data>));
		expect(calls2).toEqual(["undo a"]);
		expect(resumed.status).toBe("COMPENSATED");
	});

	it("retries a failing save until it is stored", async () => {
		let failures = 2;
		const { def } = recorder(["a"]);
		const eng = new SagaEngine<Data>({
			save: async () => {
				if (failures-- > 0) throw new Error("store down");
			},
			backoff: { initialMs: 1, maxMs: 2, factor: 2 },
		});
		expect((await eng.run(def, createSagaState(def, "s10", { order: "o" }))).status).toBe("COMPLETED");
	});

	it("bounds one attempt and counts a hung step as a technical failure", async () => {
		const def: SagaDefinition<Data> = {
			name: "hang",
			steps: [{ name: "slow", action: () => new Promise(() => undefined), compensation: async () => undefined }],
		};
		const eng = new SagaEngine<Data>({ save: async () => undefined, attemptTimeoutMs: 30 });
		const state = await eng.run(def, createSagaState(def, "s11", { order: "o" }));
		expect(state.steps[0].error).toMatchObject({ code: 504, type: "STEP_TIMEOUT", kind: "technical" });
		expect(state.status).toBe("COMPENSATED");
	});
});

describe("classifyError", () => {
	it("calls a non-retryable 4xx a business failure", () => {
		expect(classifyError(new BizError("x")).kind).toBe("business");
		expect(classifyError({ code: 402, type: "PAYMENT_DECLINED", retryable: false, message: "declined" })).toMatchObject({
			kind: "business",
			code: 402,
			type: "PAYMENT_DECLINED",
		});
	});

	it("calls timeouts, 5xx, retryable errors and plain errors technical", () => {
		expect(classifyError(new TechError("x")).kind).toBe("technical");
		expect(classifyError({ code: 404, retryable: true, message: "service not found" }).kind).toBe("technical");
		expect(classifyError({ code: 500, retryable: false, message: "boom" }).kind).toBe("technical");
		expect(classifyError(new Error("plain"))).toMatchObject({ kind: "technical", code: 500, type: "Error" });
	});
});

describe("backoffDelay", () => {
	it("grows exponentially and is capped", () => {
		const opts = { initialMs: 100, maxMs: 1000, factor: 2 };
		expect([1, 2, 3, 4, 5, 6].map(n => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
	});
});
