import { MemoryClaims } from "../../../../../mixins/events/consumer/claims";
import { CLAIM_STALE_MS } from "../../../../../mixins/events/policy";

describe("claims of a memory store", () => {
	it("lets one delivery run an event, tells a concurrent one it is busy, a later one that it is done", () => {
		const claims = new MemoryClaims();
		expect(claims.claim("g|e1", 1000)).toBe("claimed");
		expect(claims.claim("g|e1", 1001)).toBe("busy");
		claims.markDone("g|e1");
		expect(claims.claim("g|e1", 1002)).toBe("done");
		expect(claims.doneCount()).toBe(1);
	});

	it("frees a failed attempt's claim, but never a done one", () => {
		const claims = new MemoryClaims();
		claims.claim("g|e2", 1000);
		claims.release("g|e2");
		expect(claims.claim("g|e2", 1001)).toBe("claimed");
		claims.markDone("g|e2");
		claims.release("g|e2");
		expect(claims.claim("g|e2", 1002)).toBe("done");
	});

	it("takes over a stale claim, once", () => {
		const claims = new MemoryClaims();
		claims.claim("g|e3", 1000);
		expect(claims.claim("g|e3", 1000 + CLAIM_STALE_MS - 1)).toBe("busy");
		expect(claims.claim("g|e3", 1000 + CLAIM_STALE_MS)).toBe("claimed");
		expect(claims.claim("g|e3", 1001 + CLAIM_STALE_MS)).toBe("busy");
	});

	it("prunes the oldest claims first, up to a limit, and none made at or after the cut-off", () => {
		const claims = new MemoryClaims();
		for (let i = 0; i < 10; i++) claims.claim(`g|e${i}`, 1000 + i);
		// A takeover renews the claim: it is now the youngest.
		expect(claims.claim("g|e0", 1000 + CLAIM_STALE_MS)).toBe("claimed");
		expect(claims.prune(1005, 3)).toBe(3);
		expect(claims.prune(1005, 100)).toBe(1);
		expect(claims.size).toBe(6);
		expect(claims.claim("g|e4", 1006)).toBe("claimed");
		expect(claims.claim("g|e5", 1006)).toBe("busy");
		expect(claims.claim("g|e0", 1001 + CLAIM_STALE_MS)).toBe("busy");
	});
});
