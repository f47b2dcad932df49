import {
	IllegalTransitionError,
	advanceTo,
	canTransition,
	initialState,
	isCancellable,
	isTerminal,
	transition,
	type OrderStatus,
} from "../../../../services/orders/state-machine";

const AT = "2026-01-01T00:00:00.000Z";

describe("order state machine", () => {
	it("walks the happy path and appends each transition to the history", () => {
		let o = initialState(AT);
		for (const s of ["PAID", "STOCK_RESERVED", "SHIPPED", "DELIVERED"] as OrderStatus[]) o = transition(o, s, { at: AT, reason: `to ${s}` });
		expect(o.status).toBe("DELIVERED");
		expect(o.history.map(h => h.status)).toEqual(["PENDING", "PAID", "STOCK_RESERVED", "SHIPPED", "DELIVERED"]);
		expect(o.history[2]).toEqual({ status: "STOCK_RESERVED", at: AT, reason: "to STOCK_RESERVED" });
	});

	it.each([
		["PENDING", "SHIPPED"],
		["PAID", "DELIVERED"],
		["SHIPPED", "COMPENSATING"],
		["SHIPPED", "CANCELLED"],
		["DELIVERED", "PENDING"],
		["FAILED", "PAID"],
		["CANCELLED", "PENDING"],
		["COMPENSATING", "PAID"],
	] as Array<[OrderStatus, OrderStatus]>)("refuses %s → %s", (from, to) => {
		const o = { ...initialState(AT), status: from };
		expect(canTransition(from, to)).toBe(false);
		expect(() => transition(o, to, { at: AT, failureReason: "PAYMENT_ERROR" })).toThrow(IllegalTransitionError);
	});

	it("ends a failure with its reason and leaves the input untouched", () => {
		const start = transition(initialState(AT), "PAID", { at: AT });
		const comp = transition(start, "COMPENSATING", { at: AT, reason: "inventory failed" });
		const failed = transition(comp, "FAILED", { at: AT, failureReason: "OUT_OF_STOCK" });
		expect(failed).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		expect(start.status).toBe("PAID");
		expect(() => transition(comp, "FAILED", { at: AT })).toThrow(/failure reason/);
	});

	it("lets a declined payment fail straight from PENDING and a cancellation end CANCELLED", () => {
		expect(transition(initialState(AT), "FAILED", { at: AT, failureReason: "PAYMENT_ERROR" }).status).toBe("FAILED");
		const comp = transition(initialState(AT), "COMPENSATING", { at: AT });
		expect(transition(comp, "CANCELLED", { at: AT }).failure_reason).toBeNull();
	});

	it("knows terminal and cancellable statuses", () => {
		expect(["DELIVERED", "FAILED", "CANCELLED"].every(s => isTerminal(s as OrderStatus))).toBe(true);
		expect(isTerminal("SHIPPED")).toBe(false);
		expect(["PENDING", "PAID", "STOCK_RESERVED"].every(s => isCancellable(s as OrderStatus))).toBe(true);
		expect(isCancellable("SHIPPED")).toBe(false);
	});

	it("advances along the happy path through every status, and ignores a repeated advance", () => {
		const o = advanceTo(initialState(AT), "SHIPPED", { at: AT, reason: "shipped" });
		expect(o.history.map(h => h.status)).toEqual(["PENDING", "PAID", "STOCK_RESERVED", "SHIPPED"]);
		expect(o.history.at(-1)?.reason).toBe("shipped");
		expect(advanceTo(o, "SHIPPED", { at: AT })).toBe(o);
		expect(advanceTo(o, "PAID", { at: AT })).toBe(o);
		const comp = transition(initialState(AT), "COMPENSATING", { at: AT });
		expect(() => advanceTo(comp, "SHIPPED", { at: AT })).toThrow(IllegalTransitionError);
	});
});
