/**
 * NeDB keeps each index as an AVL tree whose nodes hold an array of the documents sharing a key. Its update
 * removes a document from every index and inserts the new version, even when the indexed field did not change,
 * and removing one document from a key's array filters the whole array into a new one. On a key that many
 * documents share (every notification of one customer, every order in status SHIPPED) each update of one
 * document therefore costs time proportional to all of them: a checkout got slower with every order stored
 * (a CPU profile of `npm run bench` put 9% of the time in that filter after 1,000 orders).
 *
 * This patch keeps NeDB's results and guarantees (unique keys, rollback) and changes the cost, and one detail:
 * an updated document keeps its place among the documents sharing its key instead of moving to the end, so an
 * unsorted query with a limit on a shared key may pick a different one (ShopFlow sorts, or queries unique keys):
 * - an update that leaves a document's key unchanged replaces the document in its key's array in place;
 * - removing one document from a shared key splices it out of the array instead of rebuilding the array.
 * Array-valued keys (one index entry per element) keep NeDB's own code.
 */
import { createRequire } from "node:module";

interface Doc {
	[field: string]: unknown;
}

interface Tree {
	search(key: unknown): Doc[];
	delete(key: unknown, value?: Doc): void;
}

interface NeDbIndex {
	fieldName: string;
	sparse: boolean;
	tree: Tree;
	treeOptions: { compareKeys(a: unknown, b: unknown): number };
	remove(doc: Doc | Doc[]): void;
	update(oldDoc: Doc | Pair[], newDoc?: Doc): void;
	updateMultipleDocs(pairs: Pair[]): void;
}

interface Pair {
	oldDoc: Doc;
	newDoc: Doc;
}

interface IndexClass {
	prototype: NeDbIndex;
}

const PATCHED = Symbol.for("shopflow.nedb-index-patch");

/** NeDB as moleculer-db loads it (it is moleculer-db's dependency, not ours). */
function loadNeDb(): { Index: IndexClass; getDotValue(doc: Doc, field: string): unknown } {
	const req = createRequire(require.resolve("moleculer-db"));
	const Index = req("@seald-io/nedb/lib/indexes.js") as IndexClass;
	const model = req("@seald-io/nedb/lib/model.js") as { getDotValue(doc: Doc, field: string): unknown };
	return { Index, getDotValue: model.getDotValue };
}

/** Installs the patch once per process; later calls do nothing. */
export function patchNeDbIndexes(): void {
	const { Index, getDotValue } = loadNeDb();
	const proto = Index.prototype as NeDbIndex & { [PATCHED]?: boolean };
	if (proto[PATCHED]) return;
	proto[PATCHED] = true;
	const originalRemove = proto.remove;
	const originalUpdate = proto.update;
	const originalUpdateMany = proto.updateMultipleDocs;

	/** The document's scalar key, or `NOT_SCALAR` when the key is an array (NeDB's own code handles those). */
	const scalarKey = (index: NeDbIndex, doc: Doc): unknown => {
		const key = getDotValue(doc, index.fieldName);
		return Array.isArray(key) ? NOT_SCALAR : key;
	};

	/** Replaces oldDoc by newDoc in its key's array when both have the same scalar key; false when not applicable. */
	const replaceInPlace = (index: NeDbIndex, oldDoc: Doc, newDoc: Doc): boolean => {
		const oldKey = scalarKey(index, oldDoc);
		if (oldKey === NOT_SCALAR) return false;
		const newKey = scalarKey(index, newDoc);
		if (newKey === NOT_SCALAR || index.treeOptions.compareKeys(oldKey, newKey) !== 0) return false;
		if (oldKey === undefined && index.sparse) return true;
		const docs = index.tree.search(oldKey);
		const at = docs.indexOf(oldDoc);
		if (at < 0) return false;
		docs[at] = newDoc;
		return true;
	};

	proto.remove = function (this: NeDbIndex, doc: Doc | Doc[]): void {
		if (Array.isArray(doc)) {
			for (const d of doc) this.remove(d);
			return;
		}
		const key = scalarKey(this, doc);
		if (key === NOT_SCALAR || (key === undefined && this.sparse)) return originalRemove.call(this, doc);
		const docs = this.tree.search(key);
		if (docs.length > 1) {
			const at = docs.indexOf(doc);
			if (at >= 0) docs.splice(at, 1);
			return;
		}
		this.tree.delete(key, doc);
	};

	proto.update = function (this: NeDbIndex, oldDoc: Doc | Pair[], newDoc?: Doc): void {
		if (Array.isArray(oldDoc)) return this.updateMultipleDocs(oldDoc);
		if (newDoc && replaceInPlace(this, oldDoc, newDoc)) return;
		originalUpdate.call(this, oldDoc, newDoc);
	};

	proto.updateMultipleDocs = function (this: NeDbIndex, pairs: Pair[]): void {
		const changed: Pair[] = [];
		const unchanged: Pair[] = [];
		for (const p of pairs) (sameScalarKey(this, p) ? unchanged : changed).push(p);
		// NeDB's own code first: it rolls back its part when a unique key is violated, and nothing else has changed yet.
		if (changed.length > 0) originalUpdateMany.call(this, changed);
		for (const p of unchanged) if (!replaceInPlace(this, p.oldDoc, p.newDoc)) originalUpdate.call(this, p.oldDoc, p.newDoc);
	};

	const sameScalarKey = (index: NeDbIndex, p: Pair): boolean => {
		const a = scalarKey(index, p.oldDoc);
		const b = scalarKey(index, p.newDoc);
		return a !== NOT_SCALAR && b !== NOT_SCALAR && index.treeOptions.compareKeys(a, b) === 0;
	};
}

const NOT_SCALAR = Symbol("not a scalar key");
