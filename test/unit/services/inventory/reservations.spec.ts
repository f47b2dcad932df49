import { mayTakeOver, owedStockWork, PENDING_STALE_MS } from "../../../../services/inventory/reservations";

describe("inventory reservations", () => {
	const at = (ms: number): string => new Date(ms).toISOString();

	it("lets a call take over a failed reservation at any time", () => {
		expect(mayTakeOver({ status: "FAILED", updated_at: at(1_000) }, 1_000)).toBe(true);
	});

	it("lets a call take over a PENDING reservation only once its caller has been silent too long", () => {
		const pending = { status: "PENDING" as const, updated_at: at(10_000) };
		expect(mayTakeOver(pending, 10_000 + PENDING_STALE_MS)).toBe(false);
		expect(mayTakeOver(pending, 10_000 + PENDING_STALE_MS + 1)).toBe(true);
	});

	it("never takes over a settled reservation", () => {
		for (const status of ["RESERVED", "COMMITTED", "RELEASED"] as const) expect(mayTakeOver({ status, updated_at: at(0) }, 1e12)).toBe(false);
	});

	it("owes no stock work once the reservation is clean", () => {
		expect(owedStockWork({ status: "COMMITTED", dirty: false })).toBeNull();
		expect(owedStockWork({ status: "RELEASED" })).toBeNull();
	});

	it("ships a committed reservation and gives back the holds of a failed or released one", () => {
		expect(owedStockWork({ status: "COMMITTED", dirty: true })).toBe("ship");
		expect(owedStockWork({ status: "FAILED", dirty: true })).toBe("give-back");
		expect(owedStockWork({ status: "RELEASED", dirty: true, released_from: "RESERVED" })).toBe("give-back");
		expect(owedStockWork({ status: "RELEASED", dirty: true, released_from: "PENDING" })).toBe("give-back");
	});

	it("undoes the shipment of a reservation released after its commit", () => {
		expect(owedStockWork({ status: "RELEASED", dirty: true, released_from: "COMMITTED" })).toBe("undo-shipment");
	});

	it("owes nothing for a reservation still being worked on or holding stock", () => {
		expect(owedStockWork({ status: "PENDING", dirty: true })).toBeNull();
		expect(owedStockWork({ status: "RESERVED", dirty: true })).toBeNull();
	});
});
