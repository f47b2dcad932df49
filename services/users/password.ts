/**
 * Password hashing with scrypt from Node's crypto: a slow, salted, memory-hard hash. Pure code.
 *
 * Cost of new hashes: OWASP's Password Storage Cheat Sheet asks scrypt for at least N=2^17, r=8, p=1 (128 MiB) or
 * one of the configurations it lists as equally strong: N=2^16/p=2 (64 MiB), N=2^15/p=3 (32 MiB), N=2^14/p=5
 * (16 MiB), N=2^13/p=10 (8 MiB). ShopFlow uses N=2^14, r=8, p=5, the strongest of them that keeps a node under its
 * 250 MB of RSS. Measured on the embedded shop (peak RSS, 24 registrations 8 at a time; libuv hashes 4 at once):
 * N=2^17/p=1 268 MB right after the start (the admin's hash alone) and 662 MB after the registrations;
 * N=2^15/p=3 268 MB; N=2^14/p=5 204 MB, as much as the former N=2^14/p=1 (202 MB), at about 190 ms of CPU per hash.
 * Hashes of an older cost are upgraded at the next successful login.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";

export interface ScryptCost {
	N: number;
	r: number;
	p: number;
}

/** The cost of every new hash (see above). */
export const HASH_COST: Readonly<ScryptCost> = { N: 2 ** 14, r: 8, p: 5 };
const KEY_LENGTH = 32;
/** Node refuses scrypt above 32 MiB by default; room for stored hashes of up to N=2^17, r=8. */
const MAX_MEMORY = 160 * 1024 * 1024;
/** The most a stored hash may ask for (a corrupted row must not make one login take minutes). */
const MAX_N = 2 ** 20;
const MAX_P = 16;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
	return new Promise((resolve, reject) =>
		scryptCb(password, salt, keylen, { ...opts, maxmem: MAX_MEMORY }, (err, key) => (err ? reject(err) : resolve(key))),
	);
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64url parts) at the current cost. */
export async function hashPassword(password: string, cost: ScryptCost = HASH_COST): Promise<string> {
	const salt = randomBytes(16);
	const key = await scrypt(password, salt, KEY_LENGTH, cost);
	return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** The cost a stored hash was made with, or null when it is not a hash of ours. */
export function hashCost(stored: string): ScryptCost | null {
	const parts = stored.split("$");
	if (parts.length !== 6 || parts[0] !== "scrypt") return null;
	const [N, r, p] = parts.slice(1, 4).map(Number);
	if (![N, r, p].every(Number.isInteger) || N < 2 || N > MAX_N || r < 1 || r > 32 || p < 1 || p > MAX_P) return null;
	return { N, r, p };
}

/** Whether a stored hash was made with another cost than new hashes get (then it is replaced at the next login). */
export function needsRehash(stored: string): boolean {
	const cost = hashCost(stored);
	return cost === null || cost.N !== HASH_COST.N || cost.r !== HASH_COST.r || cost.p !== HASH_COST.p;
}

/** Whether a password matches a stored hash, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const cost = hashCost(stored);
	if (cost === null) return false;
	const [saltB64, keyB64] = stored.split("$").slice(4);
	const expected = Buffer.from(keyB64, "base64url");
	if (expected.length === 0) return false;
	const key = await scrypt(password, Buffer.from(saltB64, "base64url"), expected.length, cost);
	return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing in particular at the current cost, checked against when the email is unknown so both paths take as long. */
export const DUMMY_HASH = ["scrypt", HASH_COST.N, HASH_COST.r, HASH_COST.p, "A".repeat(22), "A".repeat(43)].join("$");
