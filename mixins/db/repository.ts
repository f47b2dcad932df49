/**
 * A service's collection as the services see it: a Repository with string ids, the same behaviour on NeDB and
 * MongoDB, duplicate keys as DuplicateKeyError. Which store is in use is decided by adapters.ts.
 */
import type { ServiceBroker } from "moleculer";
import { uuid } from "../../services/common/ids";
import { createIndexes } from "./adapters";

/** The subset of moleculer-db's adapter interface that ShopFlow uses. */
export interface StoreAdapter {
	init(broker: ServiceBroker, service: unknown): void;
	connect(): Promise<unknown>;
	disconnect(): Promise<unknown>;
	find(filters: { query?: object; sort?: string[]; limit?: number; offset?: number }): Promise<Record<string, unknown>[]>;
	findOne(query: object): Promise<Record<string, unknown> | null>;
	findById(id: string): Promise<Record<string, unknown> | null>;
	count(filters: { query?: object }): Promise<number>;
	insert(entity: object): Promise<Record<string, unknown>>;
	insertMany(entities: object[]): Promise<Record<string, unknown>[]>;
	updateMany(query: object, update: object): Promise<number>;
	updateById(id: string, update: object): Promise<Record<string, unknown> | null>;
	removeMany(query: object): Promise<number>;
	removeById(id: string): Promise<unknown>;
	clear(): Promise<unknown>;
	entityToObject(entity: unknown): Record<string, unknown>;
	// Store handles, used only below to create indexes and answer health checks.
	db?: unknown;
	collection?: unknown;
}

export interface IndexSpec {
	fields: string[];
	unique?: boolean;
	/** Only documents that have the (first) field are indexed. */
	sparse?: boolean;
}

export interface CollectionSpec {
	indexes?: IndexSpec[];
}

export interface FindOptions {
	/** Field names, `-name` for descending. */
	sort?: string[];
	limit?: number;
	offset?: number;
}

/** Raised when a unique index refuses a write; services turn it into a 409 of their own. */
export class DuplicateKeyError extends Error {
	constructor(public readonly collection: string) {
		super(`duplicate key in ${collection}`);
		this.name = "DuplicateKeyError";
	}
}

type Adapter = StoreAdapter;
export type Doc = { id: string };
type Query = Record<string, unknown>;

function isDuplicateKey(err: unknown): boolean {
	const e = err as { errorType?: string; code?: number } | null;
	return !!e && (e.errorType === "uniqueViolated" || e.code === 11000);
}

/** One collection of one service. Ids are strings, exposed as `id` (stored as `_id`). */
export class Repository<T extends Doc> {
	constructor(
		readonly name: string,
		private readonly adapter: Adapter,
	) {}

	private toQuery(query: Query): Query {
		if (!("id" in query)) return query;
		const { id, ...rest } = query;
		return { ...rest, _id: id };
	}

	private toDoc(raw: Record<string, unknown> | null | undefined): T | null {
		if (!raw) return null;
		const { _id, ...rest } = this.adapter.entityToObject(raw);
		return { ...rest, id: String(_id) } as unknown as T;
	}

	private toStored(doc: Partial<T>): Record<string, unknown> {
		const { id, ...rest } = doc as Record<string, unknown>;
		return { _id: (id as string | undefined) ?? uuid(), ...rest };
	}

	/** Inserts a document; an id is generated when it has none. */
	async insert(doc: Omit<T, "id"> & { id?: string }): Promise<T> {
		try {
			return this.toDoc(await this.adapter.insert(this.toStored(doc as Partial<T>))) as T;
		} catch (err) {
			if (isDuplicateKey(err)) throw new DuplicateKeyError(this.name);
			throw err;
		}
	}

	/** Inserts several documents at once. */
	async insertMany(docs: Array<Omit<T, "id"> & { id?: string }>): Promise<T[]> {
		if (docs.length === 0) return [];
		try {
			const res = await this.adapter.insertMany(docs.map(d => this.toStored(d as Partial<T>)));
			return res.map(r => this.toDoc(r) as T);
		} catch (err) {
			if (isDuplicateKey(err)) throw new DuplicateKeyError(this.name);
			throw err;
		}
	}

	/** Creates an index unless it exists (both stores treat a second identical request as a no-op). */
	async ensureIndex(spec: IndexSpec): Promise<void> {
		await createIndexes(this.adapter, [spec]);
	}

	async findById(id: string): Promise<T | null> {
		return this.toDoc(await this.adapter.findOne({ _id: id }));
	}

	async findOne(query: Query): Promise<T | null> {
		return this.toDoc(await this.adapter.findOne(this.toQuery(query)));
	}

	async find(query: Query = {}, opts: FindOptions = {}): Promise<T[]> {
		const sort = opts.sort?.map(key => (key === "id" ? "_id" : key === "-id" ? "-_id" : key));
		const rows = await this.adapter.find({ query: this.toQuery(query), ...opts, ...(sort ? { sort } : {}) });
		return rows.map(r => this.toDoc(r) as T);
	}

	async count(query: Query = {}): Promise<number> {
		return this.adapter.count({ query: this.toQuery(query) });
	}

	/** One atomic update of every document that matches; returns how many changed. */
	async updateWhere(query: Query, update: object): Promise<number> {
		try {
			return await this.adapter.updateMany(this.toQuery(query), update);
		} catch (err) {
			if (isDuplicateKey(err)) throw new DuplicateKeyError(this.name);
			throw err;
		}
	}

	/** Atomic update of one document by id; returns it as stored afterwards, or null when absent. */
	async updateById(id: string, update: object): Promise<T | null> {
		const n = await this.updateWhere({ _id: id }, update);
		return n === 0 ? null : this.findById(id);
	}

	async removeById(id: string): Promise<boolean> {
		return (await this.adapter.removeMany({ _id: id })) > 0;
	}

	async removeWhere(query: Query): Promise<number> {
		return this.adapter.removeMany(this.toQuery(query));
	}

	async clear(): Promise<void> {
		await this.adapter.clear();
	}
}
