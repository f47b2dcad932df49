import type { IncomingHttpHeaders } from "node:http";
import { cacheKey, etagOf, MAX_CACHEABLE_URL_LENGTH, normalizeQuery, notModified, ResponseCache } from "../../../../services/api/response-cache";
import { createResponseCache } from "../../../../services/api/cached-reads";
import { loadConfig } from "../../../../config/env";

const get = (url: string, headers: IncomingHttpHeaders = {}) => cacheKey({ method: "GET", url, headers });
const body = (n: number, fill = "x"): Buffer => Buffer.from(fill.repeat(n));

describe("cacheKey", () => {
	it.each([
		"/api/v1/products",
		"/api/v1/catalog",
		"/api/v1/catalog/categories",
		"/api/v1/products/laptop-123",
		"/api/v1/catalog/laptop-123",
		"/api/v1/search",
	])("caches the public catalog read %s", path => {
		expect(get(path)).toBe(path);
	});

	it.each([
		"/api/v1/cart",
		"/api/v1/orders",
		"/api/v1/account/profile",
		"/api/v1/reviews",
		"/api/v1/inventory/laptop-123",
		"/api/v1/products/laptop-123/extra",
		"/api/v1/products/",
		"/api/v1/productsx",
		"/api/v2/products",
		"/health/ready",
		"/metrics",
		"//api/v1/products",
	])("does not cache %s", path => {
		expect(get(path)).toBeNull();
	});

	it("caches only anonymous GETs without a body or fault injection", () => {
		expect(cacheKey({ method: "HEAD", url: "/api/v1/products", headers: {} })).toBeNull();
		expect(cacheKey({ method: "POST", url: "/api/v1/products", headers: {} })).toBeNull();
		expect(get("/api/v1/products", { authorization: "Bearer x" })).toBeNull();
		expect(get("/api/v1/products", { authorization: "" })).toBeNull();
		expect(get("/api/v1/products", { "x-behavior": "latency=5ms" })).toBeNull();
		expect(get("/api/v1/products?behavior=latency=5ms")).toBeNull();
		expect(get("/api/v1/products", { "content-length": "17" })).toBeNull();
		expect(get("/api/v1/products", { "transfer-encoding": "chunked" })).toBeNull();
		expect(get("/api/v1/products", { "content-length": "0", "content-type": "application/json" })).toBe("/api/v1/products");
	});

	it("keys on the path and the normalized query", () => {
		expect(get("/api/v1/products?page=2&category=laptops")).toBe("/api/v1/products?category=laptops&page=2");
		expect(get("/api/v1/products?category=laptops&page=2")).toBe(get("/api/v1/products?page=2&category=laptops"));
		expect(get("/api/v1/products/a?page=1")).not.toBe(get("/api/v1/products/b?page=1"));
		expect(get("/api/v1/products?")).toBe("/api/v1/products");
	});

	it("does not cache very long URLs", () => {
		expect(get(`/api/v1/search?q=${"a".repeat(MAX_CACHEABLE_URL_LENGTH)}`)).toBeNull();
	});
});

describe("normalizeQuery", () => {
	it("sorts pairs by name and keeps the order of repeated names", () => {
		expect(normalizeQuery("b=2&a=1")).toBe("a=1&b=2");
		expect(normalizeQuery("tag=z&a=1&tag=y")).toBe("a=1&tag=z&tag=y");
		expect(normalizeQuery("tag=y&a=1&tag=z")).not.toBe(normalizeQuery("tag=z&a=1&tag=y"));
	});

	it("decodes as the query parser does, so that spellings of one value share a key", () => {
		expect(normalizeQuery("q=macbook+air")).toBe(normalizeQuery("q=macbook%20air"));
		expect(normalizeQuery("category=%6Captops")).toBe("category=laptops");
		expect(normalizeQuery("q=a%26b%3Dc")).toBe("q=a%26b%3Dc");
		expect(normalizeQuery("q=a%26b")).not.toBe(normalizeQuery("q=a&b"));
		expect(normalizeQuery("flag")).toBe(normalizeQuery("flag="));
		expect(normalizeQuery("a=1&&b=2")).toBe("a=1&b=2");
		expect(normalizeQuery("")).toBe("");
	});

	it("refuses what must not be cached: malformed escapes, nested keys, behavior", () => {
		expect(normalizeQuery("q=%E0%A4%A")).toBeNull();
		expect(normalizeQuery("filter[brand]=acme")).toBeNull();
		expect(normalizeQuery("filter%5Bbrand%5D=acme")).toBeNull();
		expect(normalizeQuery("page=1&behavior=latency%3D5ms")).toBeNull();
		expect(normalizeQuery("page=1&beh%61vior=x")).toBeNull();
	});
});

describe("etagOf and notModified", () => {
	it("gives equal bodies equal tags and different bodies different ones", () => {
		expect(etagOf(Buffer.from('{"a":1}'))).toBe(etagOf(Buffer.from('{"a":1}')));
		expect(etagOf(Buffer.from('{"a":1}'))).not.toBe(etagOf(Buffer.from('{"a":2}')));
		expect(etagOf(Buffer.from("x"))).toMatch(/^"1-[\w-]{27}"$/);
	});

	it("matches If-None-Match lists, weak tags and *", () => {
		const tag = etagOf(Buffer.from("x"));
		expect(notModified({ "if-none-match": tag }, tag)).toBe(true);
		expect(notModified({ "if-none-match": `"other", W/${tag}` }, tag)).toBe(true);
		expect(notModified({ "if-none-match": "*" }, tag)).toBe(true);
		expect(notModified({ "if-none-match": '"other"' }, tag)).toBe(false);
		expect(notModified({}, tag)).toBe(false);
		expect(notModified({ "if-none-match": tag, "cache-control": "no-cache" }, tag)).toBe(true);
	});
});

describe("ResponseCache", () => {
	const opts = { ttlMs: 1000, maxEntries: 3, maxBytes: 100 };

	it("serves an entry until its TTL", () => {
		const cache = new ResponseCache(opts);
		const entry = cache.set("a", body(10), cache.generation, 5000);
		expect(entry.expiresAt).toBe(6000);
		expect(cache.get("a", 5999)).toBe(entry);
		expect(cache.get("a", 6000)).toBeUndefined();
		expect(cache.size).toBe(0);
		expect(cache.byteSize).toBe(0);
	});

	it("evicts the oldest entries beyond maxEntries", () => {
		const cache = new ResponseCache(opts);
		for (const key of ["a", "b", "c", "d"]) cache.set(key, body(10), cache.generation, 0);
		expect(cache.size).toBe(3);
		expect(cache.get("a", 1)).toBeUndefined();
		expect(["b", "c", "d"].map(k => cache.get(k, 1) !== undefined)).toEqual([true, true, true]);
	});

	it("evicts the oldest entries beyond maxBytes and never stores an answer larger than that", () => {
		const cache = new ResponseCache(opts);
		cache.set("a", body(40), cache.generation, 0);
		cache.set("b", body(40), cache.generation, 0);
		cache.set("c", body(40), cache.generation, 0);
		expect(cache.byteSize).toBe(80);
		expect(cache.get("a", 1)).toBeUndefined();
		const big = cache.set("big", body(101), cache.generation, 0);
		expect(big.etag).toBe(etagOf(body(101)));
		expect(cache.get("big", 1)).toBeUndefined();
		expect(cache.byteSize).toBe(80);
	});

	it("replaces an entry under the same key, counting its bytes once", () => {
		const cache = new ResponseCache(opts);
		cache.set("a", body(30), cache.generation, 0);
		cache.set("a", body(20, "y"), cache.generation, 0);
		expect(cache.size).toBe(1);
		expect(cache.byteSize).toBe(20);
		expect(cache.get("a", 1)?.body.toString()).toBe("y".repeat(20));
	});

	it("sweeps expired entries from the oldest end when storing", () => {
		const cache = new ResponseCache(opts);
		cache.set("old", body(10), cache.generation, 0);
		cache.set("new", body(10), cache.generation, 2000);
		expect(cache.size).toBe(1);
		expect(cache.get("new", 2001)).toBeDefined();
	});

	it("empties on clear and does not store an answer computed before it", () => {
		const cache = new ResponseCache(opts);
		cache.set("a", body(10), cache.generation, 0);
		const before = cache.generation;
		cache.clear();
		expect(cache.size).toBe(0);
		expect(cache.byteSize).toBe(0);
		cache.set("b", body(10), before, 0);
		expect(cache.get("b", 1)).toBeUndefined();
		cache.set("b", body(10), cache.generation, 0);
		expect(cache.get("b", 1)).toBeDefined();
	});
});

describe("createResponseCache", () => {
	it("builds the cache from the settings, and none with GATEWAY_CACHE_TTL_MS=0", () => {
		expect(createResponseCache(loadConfig({ GATEWAY_CACHE_TTL_MS: "0" }))).toBeNull();
		expect(createResponseCache(loadConfig({}))).toBeInstanceOf(ResponseCache);
	});
});
