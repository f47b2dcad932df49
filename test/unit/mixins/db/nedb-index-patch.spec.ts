import { createRequire } from "node:module";
import { patchNeDbIndexes } from "../../../../mixins/db/nedb-index-patch";

interface Row {
	_id: string;
	status: string;
	user: string;
	code?: string;
	tags?: string[];
	n: number;
}

interface Datastore {
	insertAsync(doc: object): Promise<Row>;
	ensureIndexAsync(opts: object): Promise<void>;
	updateAsync(query: object, update: object, opts?: object): Promise<{ numAffected: number }>;
	removeAsync(query: object, opts?: object): Promise<number>;
	findAsync(query: object): Promise<Row[]>;
	getAllData(): Row[];
	indexes: Record<string, { getMatching(v: unknown): Row[]; getAll(): Row[] }>;
}

const req = createRequire(require.resolve("moleculer-db"));
const Datastore = req("@seald-io/nedb") as new (opts?: object) => Datastore;

async function store(): Promise<Datastore> {
	patchNeDbIndexes();
	const db = new Datastore();
	await db.ensureIndexAsync({ fieldName: "status" });
	await db.ensureIndexAsync({ fieldName: "user" });
	await db.ensureIndexAsync({ fieldName: "code", unique: true, sparse: true });
	await db.ensureIndexAsync({ fieldName: "tags" });
	return db;
}

/** Every index holds exactly the stored documents (same objects), under their current keys. */
function expectIndexesConsistent(db: Datastore): void {
	const docs = db.getAllData();
	for (const [field, index] of Object.entries(db.indexes)) {
		const indexed = index.getAll();
		for (const d of docs) {
			const key = (d as unknown as Record<string, unknown>)[field];
			if (key === undefined && field === "code") continue;
			const keys = Array.isArray(key) ? key : [key];
			for (const k of keys) expect(index.getMatching(k)).toContain(d);
		}
		for (const d of indexed) expect(docs).toContain(d);
	}
}

describe("NeDB index patch", () => {
	it("keeps every index exact through updates that keep or change keys, and removals", async () => {
		const db = await store();
		for (let i = 0; i < 300; i++) await db.insertAsync({ _id: `r${i}`, status: i % 2 ? "SHIPPED" : "PENDING", user: `u${i % 3}`, n: i, tags: ["a", `t${i % 4}`] });
		// Same keys (the common case), changed keys, and array keys.
		await db.updateAsync({ status: "SHIPPED" }, { $inc: { n: 1000 } }, { multi: true });
		await db.updateAsync({ user: "u1" }, { $set: { status: "DELIVERED" } }, { multi: true });
		await db.updateAsync({ _id: "r7" }, { $set: { tags: ["b"] } });
		await db.removeAsync({ user: "u2" }, { multi: true });
		expectIndexesConsistent(db);
		expect((await db.findAsync({ status: "DELIVERED" })).map(r => r.user)).toEqual(Array(100).fill("u1"));
		expect(await db.findAsync({ status: "SHIPPED", user: "u0" })).toHaveLength(50);
		expect((await db.findAsync({ _id: "r1" }))[0].n).toBe(1001);
		expect(await db.findAsync({ tags: "b" })).toHaveLength(1);
		expect(await db.findAsync({ user: "u2" })).toHaveLength(0);
	});

	it("still refuses a duplicate unique key on update and leaves every index as it was", async () => {
		const db = await store();
		await db.insertAsync({ _id: "a", status: "PENDING", user: "u", code: "x", n: 1 });
		await db.insertAsync({ _id: "b", status: "PENDING", user: "u", code: "y", n: 2 });
		await expect(db.updateAsync({ _id: "b" }, { $set: { code: "x", status: "PAID" } })).rejects.toMatchObject({ errorType: "uniqueViolated" });
		expectIndexesConsistent(db);
		expect(await db.findAsync({ status: "PAID" })).toHaveLength(0);
		expect((await db.findAsync({ code: "y" }))[0]._id).toBe("b");
		await expect(db.insertAsync({ _id: "c", status: "NEW", user: "v", code: "y", n: 3 })).rejects.toMatchObject({ errorType: "uniqueViolated" });
		expectIndexesConsistent(db);
	});

	it("updates one document among thousands that share its key without touching the others", async () => {
		const db = await store();
		for (let i = 0; i < 3000; i++) await db.insertAsync({ _id: `r${i}`, status: "SHIPPED", user: "same", n: i });
		await db.updateAsync({ _id: "r1500" }, { $set: { n: -1 } });
		await db.updateAsync({ _id: "r10" }, { $set: { status: "DELIVERED" } });
		expect(db.indexes.status.getMatching("SHIPPED")).toHaveLength(2999);
		expect((await db.findAsync({ user: "same", n: -1 }))[0]._id).toBe("r1500");
		expectIndexesConsistent(db);
	});

	it("installs once", () => {
		patchNeDbIndexes();
		patchNeDbIndexes();
		const Index = req("@seald-io/nedb/lib/indexes.js") as { prototype: { update: unknown } };
		const first = Index.prototype.update;
		patchNeDbIndexes();
		expect(Index.prototype.update).toBe(first);
	});
});
