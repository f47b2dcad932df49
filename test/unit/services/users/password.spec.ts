import { DUMMY_HASH, HASH_COST, hashCost, hashPassword, needsRehash, verifyPassword } from "../../../../services/users/password";
import { looksLikeCardNumber, normaliseEmail } from "../../../../services/users/model";

describe("password hashing", () => {
	it("verifies the right password and refuses a wrong one", async () => {
		const hash = await hashPassword("correct horse");
		expect(hash).toMatch(/^scrypt\$16384\$8\$5\$/);
		expect(hash).not.toContain("correct horse");
		await expect(verifyPassword("correct horse", hash)).resolves.toBe(true);
		await expect(verifyPassword("wrong horse", hash)).resolves.toBe(false);
	});

	it("salts every hash", async () => {
		expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
	});

	it("hashes at a cost OWASP lists as its minimum: N=2^14, r=8, p=5 (as strong as N=2^17, r=8, p=1)", async () => {
		expect(HASH_COST).toEqual({ N: 2 ** 14, r: 8, p: 5 });
		expect(hashCost(await hashPassword("x"))).toEqual(HASH_COST);
		// The memory one hash needs (128 * N * r bytes): 16 MiB.
		expect(128 * HASH_COST.N * HASH_COST.r).toBe(16 * 1024 * 1024);
	});

	it("still verifies a hash of the older cost and marks it for an upgrade", async () => {
		const old = await hashPassword("correct horse", { N: 16384, r: 8, p: 1 });
		await expect(verifyPassword("correct horse", old)).resolves.toBe(true);
		expect(needsRehash(old)).toBe(true);
		expect(needsRehash(await hashPassword("correct horse"))).toBe(false);
	});

	it("refuses a stored hash whose cost is out of bounds instead of computing it", async () => {
		await expect(verifyPassword("x", `scrypt$${2 ** 24}$8$1$AAAAAAAAAAAAAAAAAAAAAA$${"A".repeat(43)}`)).resolves.toBe(false);
		await expect(verifyPassword("x", "scrypt$16384$8$1$AAAA$")).resolves.toBe(false);
	});

	it("makes the dummy hash at the cost of new hashes, so an unknown email takes as long as a known one", () => {
		expect(hashCost(DUMMY_HASH)).toEqual(HASH_COST);
	});

	it("never matches the dummy hash used for unknown emails", async () => {
		await expect(verifyPassword("", DUMMY_HASH)).resolves.toBe(false);
		await expect(verifyPassword("anything", "not-a-hash")).resolves.toBe(false);
	});
});

describe("user model helpers", () => {
	it("normalises emails", () => {
		expect(normaliseEmail("  Ann@Example.COM ")).toBe("ann@example.com");
	});

	it.each(["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005"])("spots the card number %s", v => {
		expect(looksLikeCardNumber(v)).toBe(true);
	});

	it.each(["card-456", "tok_visa_4242", "1111", "visa"])("accepts the token %s", v => {
		expect(looksLikeCardNumber(v)).toBe(false);
	});
});
