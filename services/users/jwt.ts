/**
 * JSON Web Tokens signed with HMAC-SHA256 (HS256) from Node's crypto. Pure code.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export interface TokenClaims {
	sub: string;
	role: string;
	/** The user's token version when it was issued: a password change raises it and retires older tokens. */
	ver: number;
	iat: number;
	exp: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

function sign(input: string, secret: string): string {
	return createHmac("sha256", secret).update(input).digest("base64url");
}

/** Signs claims for a user, valid for `ttlSeconds` from `now` (seconds since the epoch). */
export function signToken(
	sub: string,
	role: string,
	secret: string,
	ttlSeconds: number,
	now = Math.floor(Date.now() / 1000),
	ver = 0,
): string {
	const claims: TokenClaims = { sub, role, ver, iat: now, exp: now + ttlSeconds };
	const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
	return `${HEADER}.${body}.${sign(`${HEADER}.${body}`, secret)}`;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: "malformed" | "signature" | "expired" };

/** Checks the signature and expiry of a token. */
export function verifyToken(token: string, secret: string, now = Math.floor(Date.now() / 1000)): VerifyResult {
	const parts = token.split(".");
	if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: "malformed" };
	const expected = Buffer.from(sign(`${parts[0]}.${parts[1]}`, secret));
	const given = Buffer.from(parts[2]);
	if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: "signature" };
	let claims: TokenClaims;
	try {
		claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as TokenClaims;
	} catch {
		return { ok: false, reason: "malformed" };
	}
	if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return { ok: false, reason: "malformed" };
	if (claims.exp <= now) return { ok: false, reason: "expired" };
	return { ok: true, claims: { ...claims, ver: typeof claims.ver === "number" ? claims.ver : 0 } };
}
