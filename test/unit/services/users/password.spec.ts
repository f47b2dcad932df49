import { DUMMY_HASH, hashPassword, verifyPassword } from "../../../../services/users/password";
import { looksLikeCardNumber, normaliseEmail } from "../../../../services/users/model";

describe("password hashing", () => {
	it("verifies the right password and refuses a wrong one", async () => {
		const hash = await hashPassword("correct horse");
		expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
		expect(hash).not.toContain("correct horse");
		await expect(verifyPassword("correct horse", hash)).resolves.toBe(true);
		await expect(verifyPassword("wrong horse", hash)).resolves.toBe(false);
	});

	it("salts every hash", async () => {
		expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
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
