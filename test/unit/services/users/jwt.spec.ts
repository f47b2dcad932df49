import { signToken, verifyToken } from "../../../../services/users/jwt";

describe("jwt", () => {
	const secret = "s".repeat(32);

	it("verifies a token it signed and returns its claims", () => {
		const token = signToken("u1", "customer", secret, 60, 1000);
		const res = verifyToken(token, secret, 1010);
		expect(res).toEqual({ ok: true, claims: { sub: "u1", role: "customer", ver: 0, iat: 1000, exp: 1060 } });
	});

	it("refuses an expired token", () => {
		const token = signToken("u1", "customer", secret, 60, 1000);
		expect(verifyToken(token, secret, 1060)).toEqual({ ok: false, reason: "expired" });
	});

	it("refuses a token signed with another secret or with altered claims", () => {
		const token = signToken("u1", "customer", secret, 60);
		expect(verifyToken(token, "t".repeat(32))).toEqual({ ok: false, reason: "signature" });
		const [h, , s] = token.split(".");
		const forged = Buffer.from(JSON.stringify({ sub: "u1", role: "admin", iat: 0, exp: 9e9 })).toString("base64url");
		expect(verifyToken(`${h}.${forged}.${s}`, secret)).toEqual({ ok: false, reason: "signature" });
	});

	it("refuses malformed tokens", () => {
		expect(verifyToken("abc", secret).ok).toBe(false);
		expect(verifyToken("a.b.c", secret).ok).toBe(false);
	});
});
