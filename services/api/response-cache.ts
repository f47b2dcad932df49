/**
 * The gateway's micro-cache of anonymous public catalog reads: the serialized 200 answer of a GET, kept for a
 * short time (GATEWAY_CACHE_TTL_MS) and served again without calling any service. This module holds the pure
 * parts: which requests may be answered from it and under which key, ETags, and a store bounded in entries and
 * bytes (oldest evicted first) that a catalog change empties at once.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * Catalog reads whose answer is the same for every anonymous caller: /products, /catalog, /search,
 * /products/:id and /catalog/:id (which includes /catalog/categories). Everything else under /api/v1 either
 * needs a user or changes something.
 */
const CACHEABLE_PATH = /^\/api\/v1\/(?:search|(?:products|catalog)(?:\/[^/]+)?)$/;

/** Longer URLs are served, but not cached (the key would be as long). */
export const MAX_CACHEABLE_URL_LENGTH = 1024;

/** The parts of a request that decide whether (and where) it is cached. */
export interface CacheableRequest {
	method?: string;
	url?: string;
	headers: IncomingHttpHeaders;
}

/**
 * The cache key of a request (its path and normalized query), or null when its answer may depend on more than
 * its URL: not a GET, a caller (any Authorization header), fault injection (X-Behavior, ?behavior=), a body
 * (a GET's JSON body is merged into the action's parameters), a path outside the catalog reads, or a query that
 * does not normalize.
 */
export function cacheKey(req: CacheableRequest): string | null {
	const url = req.url;
	if (req.method !== "GET" || url === undefined || url.length > MAX_CACHEABLE_URL_LENGTH) return null;
	const h = req.headers;
	if (h.authorization !== undefined || h["x-behavior"] !== undefined) return null;
	if (h["transfer-encoding"] !== undefined || (h["content-length"] !== undefined && h["content-length"] !== "0")) return null;
	const q = url.indexOf("?");
	const path = q === -1 ? url : url.slice(0, q);
	if (!CACHEABLE_PATH.test(path)) return null;
	if (q === -1) return path;
	const query = normalizeQuery(url.slice(q + 1));
	if (query === null) return null;
	return query === "" ? path : `${path}?${query}`;
}

/**
 * A query string in one canonical form, so that equal queries share an entry: each pair decoded as the gateway's
 * parser (qs) decodes it ('+' is a space), sorted by name (pairs of one name keep their order: together they are
 * an array), then encoded again. Null when it must not be cached: a malformed escape, a name with brackets
 * (qs builds nested objects from those) or `behavior` (fault injection).
 */
export function normalizeQuery(raw: string): string | null {
	const pairs: Array<[string, string]> = [];
	for (const part of raw.split("&")) {
		if (part === "") continue;
		const eq = part.indexOf("=");
		const name = decodeComponent(eq === -1 ? part : part.slice(0, eq));
		const value = eq === -1 ? "" : decodeComponent(part.slice(eq + 1));
		if (name === null || value === null || name === "behavior" || name.includes("[") || name.includes("]")) return null;
		pairs.push([name, value]);
	}
	// Array.prototype.sort is stable: values of one name stay in the order given.
	pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	return pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
}

function decodeComponent(s: string): string | null {
	try {
		return decodeURIComponent(s.replace(/\+/g, " "));
	} catch {
		return null;
	}
}

/** A strong ETag of a body: its length and a SHA-1 digest. Equal bodies get equal tags, also after a refetch. */
export function etagOf(body: Buffer): string {
	return `"${body.length.toString(16)}-${createHash("sha1").update(body).digest("base64url").slice(0, 27)}"`;
}

/**
 * Whether a conditional GET is answered 304 Not Modified: If-None-Match names the ETag (weak comparison, as
 * RFC 9110 asks for If-None-Match; `*` matches any). The gateway is the origin here, so a request's
 * `Cache-Control: no-cache` (fetch adds it to conditional requests) does not stop the precondition.
 */
export function notModified(headers: IncomingHttpHeaders, etag: string): boolean {
	const header = headers["if-none-match"];
	if (!header) return false;
	if (header.trim() === "*") return true;
	const tag = withoutWeakPrefix(etag);
	return header.split(",").some(t => withoutWeakPrefix(t.trim()) === tag);
}

function withoutWeakPrefix(tag: string): string {
	return tag.startsWith("W/") ? tag.slice(2) : tag;
}

/** One cached answer: the body as sent, its ETag and when it stops being served. */
export interface CachedResponse {
	readonly body: Buffer;
	readonly etag: string;
	readonly expiresAt: number;
}

export interface ResponseCacheOptions {
	/** How long an answer is served, ms (more than 0). */
	ttlMs: number;
	/** Most answers held. */
	maxEntries: number;
	/** Most body bytes held; a larger answer is not stored at all. */
	maxBytes: number;
}

/**
 * Answers by key, bounded in entries and bytes. Entries are kept in insertion order, which (one TTL for all) is
 * also the order in which they expire: eviction and the sweep of expired entries both start at the oldest.
 * `clear()` starts a new generation: an answer computed from data read before a clear is not stored after it.
 */
export class ResponseCache {
	private readonly entries = new Map<string, CachedResponse>();
	private bytes = 0;
	private gen = 0;

	constructor(private readonly opts: ResponseCacheOptions) {}

	/** Changes with every clear; read it before computing an answer and hand it to `set`. */
	get generation(): number {
		return this.gen;
	}

	/** Number of answers held. */
	get size(): number {
		return this.entries.size;
	}

	/** Body bytes held. */
	get byteSize(): number {
		return this.bytes;
	}

	/** The answer under a key while it is fresh; an expired one is dropped. */
	get(key: string, now = Date.now()): CachedResponse | undefined {
		const entry = this.entries.get(key);
		if (entry === undefined || entry.expiresAt > now) return entry;
		this.drop(key, entry);
		return undefined;
	}

	/**
	 * Stores an answer computed since `generation` and returns it (with its ETag). It is returned but not stored
	 * when the cache was cleared meanwhile (the answer may predate the change) or when it alone exceeds maxBytes.
	 */
	set(key: string, body: Buffer, generation: number, now = Date.now()): CachedResponse {
		const entry: CachedResponse = { body, etag: etagOf(body), expiresAt: now + this.opts.ttlMs };
		if (generation !== this.gen || body.length > this.opts.maxBytes) return entry;
		const old = this.entries.get(key);
		if (old !== undefined) this.drop(key, old);
		this.entries.set(key, entry);
		this.bytes += body.length;
		this.evict(now);
		return entry;
	}

	/** Drops every answer and starts a new generation. */
	clear(): void {
		this.entries.clear();
		this.bytes = 0;
		this.gen++;
	}

	/** Drops the oldest entries while they are expired or the cache is over a bound. */
	private evict(now: number): void {
		for (const [key, entry] of this.entries) {
			const over = this.entries.size > this.opts.maxEntries || this.bytes > this.opts.maxBytes;
			if (!over && entry.expiresAt > now) return;
			this.drop(key, entry);
		}
	}

	private drop(key: string, entry: CachedResponse): void {
		this.entries.delete(key);
		this.bytes -= entry.body.length;
	}
}
