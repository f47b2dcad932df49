import { canonicalJson, ChainVerifier, entryHash, GENESIS_HASH, sealEntry, type AuditEntry } from "../../../../services/audit/chain";

function chain(n: number): AuditEntry[] {
	const out: AuditEntry[] = [];
	for (let i = 0; i < n; i++)
		out.push(
			sealEntry(
				{
					id: `e${i}`,
					at: "2026-12-04T00:00:00.000Z",
					actor: { id: "u1", email: "a@example.com", role: "admin" },
					action: "products.update",
					entity: "product",
					entity_id: "p1",
					before: canonicalJson({ price_cents: i }),
					after: canonicalJson({ price_cents: i + 1 }),
					trace_id: `t${i}`,
					intent_id: `i${i}`,
					recovered: false,
				},
				out[i - 1] ?? null,
			),
		);
	return out;
}

function verify(entries: AuditEntry[], head = entries.length) {
	const v = new ChainVerifier();
	v.feed(entries.slice(0, 2));
	v.feed(entries.slice(2));
	return v.finish(head);
}

describe("canonicalJson", () => {
	it("gives the same text whatever the order of the keys, at every depth", () => {
		expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
		expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
	});

	it("leaves out undefined fields, as JSON does", () => {
		expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
	});
});

describe("the audit chain", () => {
	it("links each entry to the one before, from the genesis hash", () => {
		const entries = chain(3);
		expect(entries.map(e => e.seq)).toEqual([1, 2, 3]);
		expect(entries[0].prev_hash).toBe(GENESIS_HASH);
		expect(entries[1].prev_hash).toBe(entries[0].hash);
		expect(entryHash(entries[2])).toBe(entries[2].hash);
	});

	it("holds when nothing was touched", () => {
		expect(verify(chain(5))).toBeNull();
	});

	it("names an edited entry", () => {
		const entries = chain(5);
		entries[2] = { ...entries[2], after: canonicalJson({ price_cents: 999 }) };
		expect(verify(entries)).toMatchObject({ seq: 3, id: "e2", reason: "HASH_MISMATCH" });
	});

	it("names the entry after an edited and re-hashed one", () => {
		const entries = chain(5);
		const edited = { ...entries[1], actor: { id: "someone-else", email: null, role: "admin" } };
		entries[1] = { ...edited, hash: entryHash(edited) };
		expect(verify(entries)).toMatchObject({ seq: 3, id: "e2", reason: "PREV_HASH_MISMATCH" });
	});

	it("names a deleted entry, in the middle or at the end", () => {
		const entries = chain(5);
		expect(verify([...entries.slice(0, 2), ...entries.slice(3)])).toMatchObject({ seq: 3, id: null, reason: "MISSING" });
		expect(verify(entries.slice(0, 4), 5)).toMatchObject({ seq: 5, id: null, reason: "MISSING" });
	});
});
