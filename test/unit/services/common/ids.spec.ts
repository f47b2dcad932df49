import { uuid } from "../../../../services/common/ids";

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuid", () => {
	it("returns version 4 UUIDs with the RFC 4122 variant", () => {
		for (let i = 0; i < 2000; i++) expect(uuid()).toMatch(V4);
	});

	it("never repeats an id, across refills of its random pool", () => {
		const ids = new Set<string>();
		for (let i = 0; i < 20_000; i++) ids.add(uuid());
		expect(ids.size).toBe(20_000);
	});

	it("puts a prefix in front of the id", () => {
		const id = uuid("pay_");
		expect(id.startsWith("pay_")).toBe(true);
		expect(id.slice(4)).toMatch(V4);
	});

	it("takes a long or non-ASCII prefix too", () => {
		const long = "x".repeat(200);
		expect(uuid(long).slice(0, 200)).toBe(long);
		expect(uuid(long).slice(200)).toMatch(V4);
		expect(uuid("café:").slice(0, 5)).toBe("café:");
		expect(uuid("café:").slice(5)).toMatch(V4);
	});

	it("spreads its hex digits evenly", () => {
		const counts = new Map<string, number>();
		for (let i = 0; i < 5000; i++) for (const c of uuid().slice(0, 8)) counts.set(c, (counts.get(c) ?? 0) + 1);
		expect(counts.size).toBe(16);
		for (const n of counts.values()) expect(n).toBeGreaterThan(40000 / 16 / 1.5);
	});
});
