import { SpanBuffer } from "../../../../../config/middlewares/call-chain/span-buffer";
import type { CallRecord } from "../../../../../services/common/call-chain";

const rec = (action: string): CallRecord => ({ name: "svc", action, code: 200, duration: 1, node: "n1" });

describe("SpanBuffer", () => {
	it("returns the records of one trace in the order they were added", () => {
		const b = new SpanBuffer();
		b.add("t1", rec("a"));
		b.add("t2", rec("x"));
		b.add("t1", rec("b"));
		expect(b.get("t1").map(r => r.action)).toEqual(["a", "b"]);
		expect(b.get("unknown")).toEqual([]);
	});

	it("keeps only the newest records beyond its size", () => {
		const b = new SpanBuffer({ maxSpans: 3 });
		for (const a of ["a", "b", "c", "d"]) b.add("t", rec(a));
		expect(b.get("t").map(r => r.action)).toEqual(["b", "c", "d"]);
		expect(b.size).toBe(3);
	});

	it("forgets records older than its age limit", () => {
		let now = 1000;
		const b = new SpanBuffer({ maxAgeMs: 100, now: () => now });
		b.add("old", rec("a"));
		now = 1050;
		b.add("new", rec("b"));
		now = 1120;
		expect(b.get("old")).toEqual([]);
		expect(b.get("new").length).toBe(1);
	});

	it("stays bounded under many traces", () => {
		const b = new SpanBuffer({ maxSpans: 100 });
		for (let i = 0; i < 5000; i++) b.add(`t${i}`, rec(String(i)));
		expect(b.size).toBe(100);
		expect(b.get("t4999").length).toBe(1);
		expect(b.get("t0")).toEqual([]);
	});
});
