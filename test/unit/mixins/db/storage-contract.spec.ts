/**
 * The storage contract: what the repository layer (mixins/db) promises the services, checked on every store a
 * shop can run on. NeDB in memory (tests, DATA_DIR=memory) and NeDB in files (DATA_DIR, the embedded default) run
 * always; MongoDB runs when MONGO_URL is set (`npm run test:mongo`), and its describe block says so when it is not.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";

import { ServiceConfigMiddleware } from "../../../../config/middlewares/service-config";
import { DbMixin, DuplicateKeyError, type CollectionSpec, type Repository } from "../../../../mixins/db.mixin";
import { mongoUrlForTests } from "../../../helpers/env";
import { testConfig } from "../../../helpers/shop";

interface Row {
	id: string;
	sku: string;
	n: number;
	code?: string | null;
	rev?: number;
	tags?: string[];
	staged?: Array<{ event_id: string; name: string }>;
	meta?: { a?: number; b?: string };
	note?: string | null;
}

interface StoreVariant {
	/** Names the store in the test names. */
	label: string;
	env: () => Record<string, string>;
	/** Whether what is written outlives a restart of the process. */
	durable: boolean;
	/** Whether several processes may open it at once (replicas of a service). */
	shared: boolean;
	cleanup?: () => void;
}

const mongoUrl = mongoUrlForTests();
const runTag = `c${process.pid}${Date.now().toString(36)}`;
let dataDir = "";

const variants: Array<StoreVariant | { label: string; missing: string }> = [
	{ label: "NeDB in memory (DATA_DIR=memory)", env: () => ({}), durable: false, shared: false },
	{
		label: "NeDB files (DATA_DIR)",
		env: () => {
			dataDir ||= fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-contract-"));
			return { DATA_DIR: dataDir };
		},
		durable: true,
		shared: false,
		cleanup: () => dataDir && fs.rmSync(dataDir, { recursive: true, force: true }),
	},
	mongoUrl
		? { label: `MongoDB (${redact(mongoUrl)})`, env: () => ({ MONGO_URL: mongoUrl }), durable: true, shared: true }
		: { label: "MongoDB", missing: "not run: MONGO_URL is not set (npm run test:mongo with MONGO_URL runs it)" },
];

function redact(url: string): string {
	return url.replace(/\/\/[^@/]*@/, "//***@");
}

const SPEC: CollectionSpec = {
	indexes: [
		{ fields: ["sku"], unique: true },
		{ fields: ["code"], unique: true, sparse: true },
		{ fields: ["n"] },
	],
};

interface Node {
	broker: ServiceBroker;
	repo: Repository<Row>;
}

/** A broker (one process's worth) with one service whose `rows` collection is on the variant's store. */
async function openNode(variant: StoreVariant, service: string, spec: CollectionSpec = SPEC): Promise<Node> {
	const config = testConfig(variant.env());
	const broker = new ServiceBroker({ logger: false, middlewares: [ServiceConfigMiddleware(config)] });
	const svc = broker.createService({ name: service, mixins: [DbMixin({ rows: spec })] }) as unknown as {
		collection(name: string): Repository<Row>;
	};
	await broker.start();
	return { broker, repo: svc.collection("rows") };
}

const row = (sku: string, n = 0, extra: Partial<Row> = {}): Omit<Row, "id"> => ({ sku, n, ...extra });

for (const variant of variants) {
	if ("missing" in variant) {
		describe(`storage contract on ${variant.label}: ${variant.missing}`, () => {
			it("is not run without MONGO_URL, and `npm run test:mongo` refuses to pass without it", () => {
				// `npm run test:mongo` is for proving the MongoDB path: there a missing MONGO_URL is a failure, not a skip.
				expect(process.env.npm_lifecycle_event === "test:mongo" ? "MONGO_URL must be set for npm run test:mongo" : "ok").toBe("ok");
			});
		});
		continue;
	}

	describe(`storage contract on ${variant.label}`, () => {
		let node: Node;
		let service = "";
		let seq = 0;

		beforeEach(async () => {
			// A fresh collection per test: on MongoDB a new collection name, on NeDB files a new file.
			service = `contract${runTag}n${seq++}`;
			node = await openNode(variant, service);
		});

		afterEach(async () => {
			await node.repo.clear();
			await node.broker.stop();
		});

		afterAll(() => variant.cleanup?.());

		describe("insert", () => {
			it("stores a document under a generated string id or the id it was given, and reads it back as `id`", async () => {
				const a = await node.repo.insert(row("a", 1));
				const b = await node.repo.insert({ id: "laptop-123", ...row("b", 2) });
				expect(typeof a.id).toBe("string");
				expect(a.id.length).toBeGreaterThan(0);
				expect(b).toEqual({ id: "laptop-123", sku: "b", n: 2 });
				expect(await node.repo.findById("laptop-123")).toEqual({ id: "laptop-123", sku: "b", n: 2 });
				expect(await node.repo.findById(a.id)).toEqual({ id: a.id, sku: "a", n: 1 });
				expect(await node.repo.findOne({ id: a.id })).toEqual(a);
				expect(await node.repo.findById("nobody")).toBeNull();
			});

			it("keeps an id that looks like a MongoDB ObjectId as a plain string", async () => {
				const hex = "5f0c8a9b1c2d3e4f5a6b7c8d";
				await node.repo.insert({ id: hex, ...row("hex") });
				expect(await node.repo.findById(hex)).toEqual({ id: hex, sku: "hex", n: 0 });
				expect(await node.repo.find({ id: { $in: [hex] } })).toHaveLength(1);
			});

			it("inserts several documents at once, and none for an empty list", async () => {
				const rows = await node.repo.insertMany([row("a", 1), row("b", 2), { id: "c", ...row("c", 3) }]);
				expect(rows.map(r => r.sku)).toEqual(["a", "b", "c"]);
				expect(rows[2].id).toBe("c");
				expect(await node.repo.count()).toBe(3);
				expect(await node.repo.insertMany([])).toEqual([]);
			});

			it("keeps nested objects, arrays, nulls and numbers as they were written", async () => {
				const doc = { id: "deep", ...row("deep", 1.5, { meta: { a: 1, b: "x" }, tags: ["t1", "t2"], note: null }) };
				await node.repo.insert(doc);
				expect(await node.repo.findById("deep")).toEqual(doc);
			});
		});

		describe("unique keys", () => {
			it("refuses a second document with the same id as a DuplicateKeyError naming the collection", async () => {
				await node.repo.insert({ id: "same", ...row("one") });
				const err = await node.repo.insert({ id: "same", ...row("two") }).catch((e: unknown) => e);
				expect(err).toBeInstanceOf(DuplicateKeyError);
				expect((err as DuplicateKeyError).collection).toBe("rows");
				expect(await node.repo.findById("same")).toMatchObject({ sku: "one" });
			});

			it("refuses a second document with the same unique key and writes nothing of it", async () => {
				await node.repo.insert(row("same", 1));
				await expect(node.repo.insert(row("same", 2))).rejects.toBeInstanceOf(DuplicateKeyError);
				expect(await node.repo.find({ sku: "same" })).toEqual([expect.objectContaining({ n: 1 })]);
			});

			it("refuses an update that would give a document another's unique key, and leaves it as it was", async () => {
				await node.repo.insert({ id: "x", ...row("x") });
				await node.repo.insert({ id: "y", ...row("y") });
				await expect(node.repo.updateWhere({ id: "y" }, { $set: { sku: "x", n: 9 } })).rejects.toBeInstanceOf(DuplicateKeyError);
				expect(await node.repo.findById("y")).toEqual({ id: "y", sku: "y", n: 0 });
			});

			it("refuses a batch insert that repeats a unique key", async () => {
				await expect(node.repo.insertMany([row("d1"), row("d1")])).rejects.toBeInstanceOf(DuplicateKeyError);
				// MongoDB keeps the documents before the duplicate (an ordered insert), NeDB none: services insert one by one
				// where a duplicate is expected.
				expect(await node.repo.count({ sku: "d1" })).toBeLessThanOrEqual(1);
			});

			it("lets a sparse unique key be absent from many documents but not repeated", async () => {
				await node.repo.insert(row("s1"));
				await node.repo.insert(row("s2"));
				await node.repo.insert(row("s3", 0, { code: "C1" }));
				await expect(node.repo.insert(row("s4", 0, { code: "C1" }))).rejects.toBeInstanceOf(DuplicateKeyError);
				expect(await node.repo.count()).toBe(3);
			});
		});

		describe("conditional updates", () => {
			it("lets exactly as many concurrent guarded decrements win as the stock allows", async () => {
				await node.repo.insert({ id: "stock", ...row("stock", 10, { rev: 0 }) });
				const results = await Promise.all(Array.from({ length: 40 }, () => node.repo.updateWhere({ id: "stock", n: { $gte: 1 } }, { $inc: { n: -1, rev: 1 } })));
				expect(results.filter(r => r === 1)).toHaveLength(10);
				expect(results.filter(r => r === 0)).toHaveLength(30);
				expect(await node.repo.findById("stock")).toMatchObject({ n: 0, rev: 10 });
			});

			it("lets exactly one of many concurrent compare-and-set writers on the same revision win", async () => {
				await node.repo.insert({ id: "doc", ...row("doc", 0, { rev: 0 }) });
				const results = await Promise.all(
					Array.from({ length: 20 }, (_, i) => node.repo.updateWhere({ id: "doc", rev: 0 }, { $set: { rev: 1, note: `writer ${i}` } })),
				);
				expect(results.filter(r => r === 1)).toHaveLength(1);
				const winner = results.indexOf(1);
				expect(await node.repo.findById("doc")).toMatchObject({ rev: 1, note: `writer ${winner}` });
			});

			it("counts the documents the condition matched, also when the update leaves them as they were", async () => {
				// Services read 0 as "the condition did not hold" (a claim lost, a state already moved on).
				await node.repo.insert({ id: "same", ...row("same", 5, { note: "kept", tags: ["t"] }) });
				expect(await node.repo.updateWhere({ id: "same", note: "kept" }, { $set: { note: "kept" } })).toBe(1);
				// (A $pull needs the array to exist: NeDB refuses one on a missing field, MongoDB ignores it.)
				expect(await node.repo.updateWhere({ id: "same" }, { $pull: { tags: "absent" } })).toBe(1);
				expect(await node.repo.updateWhere({ id: "same", note: "other" }, { $set: { note: "changed" } })).toBe(0);
				expect(await node.repo.findById("same")).toMatchObject({ note: "kept" });
			});

			it("updates every matching document at once and says how many", async () => {
				await node.repo.insertMany([row("a", 1), row("b", 2), row("c", 3)]);
				expect(await node.repo.updateWhere({ n: { $lte: 2 } }, { $set: { note: "low" } })).toBe(2);
				expect((await node.repo.find({ note: "low" }, { sort: ["sku"] })).map(r => r.sku)).toEqual(["a", "b"]);
			});

			it("returns the document as stored after updateById, and null for an absent id", async () => {
				await node.repo.insert({ id: "u", ...row("u", 1) });
				expect(await node.repo.updateById("u", { $set: { note: "after" }, $inc: { n: 2 } })).toEqual({ id: "u", sku: "u", n: 3, note: "after" });
				expect(await node.repo.updateById("nobody", { $set: { note: "x" } })).toBeNull();
				expect(await node.repo.findById("nobody")).toBeNull();
			});
		});

		describe("update operators", () => {
			it("$inc adds to several fields at once, negative too, and starts a missing field at 0", async () => {
				await node.repo.insert({ id: "i", ...row("i", 5) });
				await node.repo.updateWhere({ id: "i" }, { $inc: { n: -2, rev: 3 } });
				expect(await node.repo.findById("i")).toMatchObject({ n: 3, rev: 3 });
			});

			it("$set writes dotted paths into nested objects and $unset removes fields", async () => {
				await node.repo.insert({ id: "s", ...row("s", 0, { meta: { a: 1 }, note: "gone soon" }) });
				await node.repo.updateWhere({ id: "s" }, { $set: { "meta.b": "two" }, $unset: { note: true } });
				const doc = await node.repo.findById("s");
				expect(doc).toEqual({ id: "s", sku: "s", n: 0, meta: { a: 1, b: "two" } });
				expect(await node.repo.count({ "meta.b": "two" })).toBe(1);
			});

			it("$push appends one value or several with $each, creating the array", async () => {
				await node.repo.insert({ id: "p", ...row("p") });
				await node.repo.updateWhere({ id: "p" }, { $push: { tags: "a" } });
				await node.repo.updateWhere({ id: "p" }, { $push: { tags: { $each: ["b", "c"] } } });
				expect((await node.repo.findById("p"))?.tags).toEqual(["a", "b", "c"]);
				expect(await node.repo.count({ tags: "b" })).toBe(1);
			});

			it("$pull removes array elements by value and objects by a condition on their fields", async () => {
				const staged = [
					{ event_id: "e1", name: "x" },
					{ event_id: "e2", name: "y" },
					{ event_id: "e3", name: "z" },
				];
				await node.repo.insert({ id: "q", ...row("q", 0, { tags: ["a", "b", "a"], staged }) });
				await node.repo.updateWhere({ id: "q" }, { $pull: { tags: "a", staged: { event_id: { $in: ["e1", "e3"] } } } });
				expect(await node.repo.findById("q")).toMatchObject({ tags: ["b"], staged: [{ event_id: "e2", name: "y" }] });
			});

			it("concurrent $push of different values loses none", async () => {
				await node.repo.insert({ id: "cp", ...row("cp") });
				await Promise.all(Array.from({ length: 25 }, (_, i) => node.repo.updateWhere({ id: "cp" }, { $push: { tags: `t${i}` } })));
				expect([...((await node.repo.findById("cp"))?.tags ?? [])].sort()).toEqual(Array.from({ length: 25 }, (_, i) => `t${i}`).sort());
			});
		});

		describe("find", () => {
			beforeEach(async () => {
				await node.repo.insertMany(
					Array.from({ length: 12 }, (_, i) => ({ id: `r${String(i).padStart(2, "0")}`, ...row(`sku${i}`, i % 4, { note: i % 3 === 0 ? null : `t${i}` }) })),
				);
			});

			it("matches equality, $in, $ne, ranges, $exists and explicit null", async () => {
				expect(await node.repo.count({ n: 2 })).toBe(3);
				expect(await node.repo.count({ n: { $in: [0, 3] } })).toBe(6);
				expect(await node.repo.count({ n: { $ne: 0 } })).toBe(9);
				expect(await node.repo.count({ n: { $gt: 0, $lt: 3 } })).toBe(6);
				expect(await node.repo.count({ n: { $gte: 3 } })).toBe(3);
				expect(await node.repo.count({ note: null })).toBe(4);
				expect(await node.repo.count({ note: { $ne: null } })).toBe(8);
				expect(await node.repo.count({ tags: { $exists: true } })).toBe(0);
				expect(await node.repo.count({ note: { $exists: true } })).toBe(12);
				expect(await node.repo.count({ id: { $in: ["r01", "r02", "nobody"] } })).toBe(2);
			});

			it("sorts on several keys, ascending and descending", async () => {
				const rows = await node.repo.find({}, { sort: ["-n", "id"] });
				expect(rows.map(r => r.id)).toEqual(["r03", "r07", "r11", "r02", "r06", "r10", "r01", "r05", "r09", "r00", "r04", "r08"]);
			});

			it("pages with limit and offset without gaps or repeats", async () => {
				const seen: string[] = [];
				for (let offset = 0; ; offset += 5) {
					const page = await node.repo.find({}, { sort: ["id"], limit: 5, offset });
					seen.push(...page.map(r => r.id));
					if (page.length < 5) break;
				}
				expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(2, "0")}`));
				expect(await node.repo.find({ n: 1 }, { sort: ["-id"], limit: 2, offset: 1 })).toEqual([
					expect.objectContaining({ id: "r05" }),
					expect.objectContaining({ id: "r01" }),
				]);
			});

			it("counts with and without a query", async () => {
				expect(await node.repo.count()).toBe(12);
				expect(await node.repo.count({ n: 1, note: { $ne: null } })).toBe(2);
			});
		});

		describe("indexes", () => {
			it("creates an index on demand, a second time as a no-op, and enforces it when unique", async () => {
				await node.repo.insert({ id: "a", ...row("a", 0, { note: "k1" }) });
				await node.repo.ensureIndex({ fields: ["note"], unique: true, sparse: true });
				await node.repo.ensureIndex({ fields: ["note"], unique: true, sparse: true });
				await expect(node.repo.insert(row("b", 0, { note: "k1" }))).rejects.toBeInstanceOf(DuplicateKeyError);
				await node.repo.insert(row("c"));
				expect(await node.repo.count()).toBe(2);
			});

			it("answers the same through an index as without one", async () => {
				await node.repo.insertMany(Array.from({ length: 30 }, (_, i) => row(`x${i}`, i % 5)));
				// `n` is indexed (SPEC), `rev` is not.
				await node.repo.updateWhere({ n: 2 }, { $set: { rev: 7 } });
				await node.repo.updateWhere({ n: 2, sku: "x2" }, { $set: { n: 3 } });
				expect(await node.repo.count({ n: 2 })).toBe(5);
				expect(await node.repo.count({ rev: 7 })).toBe(6);
				expect((await node.repo.find({ n: 3 }, { sort: ["sku"] })).map(r => r.sku)).toEqual(["x13", "x18", "x2", "x23", "x28", "x3", "x8"]);
			});
		});

		describe("removal", () => {
			it("removes by id (saying whether it was there), by query (saying how many) and all", async () => {
				await node.repo.insertMany([{ id: "a", ...row("a", 1) }, { id: "b", ...row("b", 1) }, { id: "c", ...row("c", 2) }, { id: "d", ...row("d", 3) }]);
				expect(await node.repo.removeById("a")).toBe(true);
				expect(await node.repo.removeById("a")).toBe(false);
				expect(await node.repo.removeWhere({ n: { $lte: 2 } })).toBe(2);
				expect((await node.repo.find()).map(r => r.id)).toEqual(["d"]);
				await node.repo.clear();
				expect(await node.repo.count()).toBe(0);
			});

			it("frees a unique key when its document is removed", async () => {
				await node.repo.insert({ id: "first", ...row("k") });
				await node.repo.removeById("first");
				await expect(node.repo.insert({ id: "second", ...row("k") })).resolves.toMatchObject({ sku: "k" });
			});
		});

		if (variant.durable) {
			it("keeps what was written across a restart of the process", async () => {
				await node.repo.insert({ id: "kept", ...row("kept", 3) });
				await node.repo.updateWhere({ id: "kept" }, { $inc: { n: 1 }, $push: { tags: "t" } });
				await node.broker.stop();
				node = await openNode(variant, service);
				expect(await node.repo.findById("kept")).toEqual({ id: "kept", sku: "kept", n: 4, tags: ["t"] });
				await expect(node.repo.insert(row("kept"))).rejects.toBeInstanceOf(DuplicateKeyError);
			});
		} else {
			it("starts empty in every process (nothing is written to disk)", async () => {
				await node.repo.insert({ id: "gone", ...row("gone") });
				await node.broker.stop();
				node = await openNode(variant, service);
				expect(await node.repo.count()).toBe(0);
			});
		}

		if (variant.shared) {
			it("lets replicas in several processes share the collection: guarded updates stay exact across them", async () => {
				const other = await openNode(variant, service);
				try {
					await node.repo.insert({ id: "shared", ...row("shared", 10) });
					const take = (repo: Repository<Row>) => repo.updateWhere({ id: "shared", n: { $gte: 1 } }, { $inc: { n: -1 } });
					const results = await Promise.all(Array.from({ length: 30 }, (_, i) => take(i % 2 ? other.repo : node.repo)));
					expect(results.filter(r => r === 1)).toHaveLength(10);
					expect(await other.repo.findById("shared")).toMatchObject({ n: 0 });
				} finally {
					await other.broker.stop();
				}
			});
		}
	});
}
