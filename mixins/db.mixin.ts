/**
 * Storage for a service's collections through moleculer-db's adapter interface: the NeDB store (files under
 * DATA_DIR, or memory in tests) or MongoDB (MONGO_URL). This is the only place that knows which one is in use;
 * services see a Repository per collection with the same behaviour on both.
 */
import fs from "node:fs";
import path from "node:path";
import type { Context, Service, ServiceBroker, ServiceSchema, ServiceSettingSchema } from "moleculer";
import DbService from "moleculer-db";
import MongoAdapter from "moleculer-db-adapter-mongo";
import { getConfig, type Config } from "../config/env";
import { patchNeDbIndexes } from "./db/nedb-index-patch";
import { uuid } from "../services/common/ids";

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
type Doc = { id: string };
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
		await createIndexes(this.adapter, !!getConfig().mongoUrl, [spec]);
	}

	async findById(id: string): Promise<T | null> {
		return this.toDoc(await this.adapter.findOne({ _id: id }));
	}

	async findOne(query: Query): Promise<T | null> {
		return this.toDoc(await this.adapter.findOne(this.toQuery(query)));
	}

	async find(query: Query = {}, opts: FindOptions = {}): Promise<T[]> {
		const rows = await this.adapter.find({ query: this.toQuery(query), ...opts });
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

export interface DbMethods {
	/** The repository of one of this service's collections. */
	collection<T extends Doc>(name: string): Repository<T>;
	/** Whether the store answers. */
	storageHealthy(): Promise<boolean>;
	/** Whether every collection is connected: from the end of `started` to the start of `stopped`. */
	collectionsOpen(): boolean;
}

interface DbState {
	$dbOpen?: boolean;
	$adapters: Map<string, Adapter>;
	$repositories: Map<string, Repository<Doc>>;
}

type DbThis = Service & DbState & DbMethods;

/** NeDB (moleculer-db's MemoryAdapter) with a file per collection, or in memory when DATA_DIR is null. */
function createNeDbAdapter(serviceName: string, collection: string, dataDir: string | null): Adapter {
	patchNeDbIndexes();
	if (!dataDir) return new DbService.MemoryAdapter() as unknown as Adapter;
	fs.mkdirSync(dataDir, { recursive: true });
	const filename = path.join(dataDir, `${serviceName}.${collection}.db`);
	return new DbService.MemoryAdapter({ filename, autoload: false }) as unknown as Adapter;
}

async function createIndexes(adapter: Adapter, mongo: boolean, indexes: IndexSpec[]): Promise<void> {
	for (const ix of indexes) {
		if (mongo) {
			const coll = adapter.collection as { createIndex(spec: object, opts: object): Promise<unknown> };
			await coll.createIndex(Object.fromEntries(ix.fields.map(f => [f, 1])), { unique: !!ix.unique, sparse: !!ix.sparse });
		} else {
			const db = adapter.db as { ensureIndex(opts: object): Promise<unknown> };
			// NeDB indexes one field at a time; a compound key is indexed by its first field.
			await db.ensureIndex({ fieldName: ix.fields[0], unique: !!ix.unique && ix.fields.length === 1, sparse: !!ix.sparse });
		}
	}
}

/** The store adapter of one collection of one service (MongoDB when configured, NeDB otherwise); not yet connected. */
export function openAdapter(broker: ServiceBroker, logger: unknown, config: Config, service: string, collection: string): StoreAdapter {
	const adapter = config.mongoUrl ? (new MongoAdapter(config.mongoUrl, {}) as unknown as Adapter) : createNeDbAdapter(service, collection, config.dataDir);
	// The Mongo adapter reads the collection name from the service schema it is given.
	adapter.init(broker, { schema: { collection: `${service}_${collection}` }, logger, name: service });
	return adapter;
}

interface NeDbResult {
	numAffected: number;
	affectedDocuments: unknown;
	upsert: boolean;
}

interface NeDbDatastore {
	insertAsync(doc: object | object[]): Promise<Record<string, unknown> & Record<string, unknown>[]>;
	findOneAsync(query: object): Promise<Record<string, unknown> | null>;
	countAsync(query: object): Promise<number>;
	updateAsync(query: object, update: object, opts: object): Promise<NeDbResult>;
	removeAsync(query: object, opts: object): Promise<number>;
	update: (query: object, update: object, opts: object) => Promise<unknown[]>;
}

interface NeDbCursor {
	execAsync(): Promise<Record<string, unknown>[]>;
}

/**
 * moleculer-db 0.9's memory adapter wraps NeDB 3 in `util.promisify` although NeDB 3 has a promise API of its
 * own: every call went through promisify around NeDB's own callbackify (and `update` printed a DEP0174 warning
 * with a stack trace each time: once a third of a checkout's CPU time), and `count` fetched and copied every
 * matching document to return their number. The adapter's methods call NeDB's promise API directly here, with
 * the results the adapter interface promises.
 */
function useNeDbPromiseApi(adapter: StoreAdapter): void {
	const db = adapter.db as NeDbDatastore | undefined;
	if (!db?.updateAsync || !db.insertAsync) return;
	const cursorOf = (adapter as unknown as { createCursor(filters: object): NeDbCursor }).createCursor.bind(adapter);
	db.update = (query, update, opts) => db.updateAsync(query, update, opts).then(r => [r.numAffected, r.affectedDocuments, r.upsert]);
	adapter.insert = entity => db.insertAsync(entity);
	adapter.insertMany = entities => db.insertAsync(entities);
	adapter.findOne = query => db.findOneAsync(query);
	adapter.findById = id => db.findOneAsync({ _id: id });
	adapter.find = filters => cursorOf(filters).execAsync();
	adapter.count = (filters = {}) => db.countAsync(filters.query ?? {});
	adapter.updateMany = (query, update) => db.updateAsync(query, update, { multi: true }).then(r => r.numAffected);
	adapter.updateById = (id, update) =>
		db.updateAsync({ _id: id }, update, { returnUpdatedDocs: true }).then(r => r.affectedDocuments as Record<string, unknown> | null);
	adapter.removeMany = query => db.removeAsync(query, { multi: true });
	adapter.removeById = id => db.removeAsync({ _id: id }, {});
}

/** Connects an adapter and creates the indexes it declares. */
export async function connectAdapter(adapter: StoreAdapter, config: Config, indexes: IndexSpec[] = []): Promise<void> {
	await adapter.connect();
	if (!config.mongoUrl) useNeDbPromiseApi(adapter);
	// NeDB appends every write to its file; compact it once a minute.
	(adapter.db as { setAutocompactionInterval?(ms: number): void } | undefined)?.setAutocompactionInterval?.(60_000);
	await createIndexes(adapter, !!config.mongoUrl, indexes);
}

/** Disconnects an adapter. */
export async function closeAdapter(adapter: StoreAdapter): Promise<void> {
	(adapter.db as { stopAutocompaction?(): void } | undefined)?.stopAutocompaction?.();
	await adapter.disconnect();
}

/** A mixin giving the service a repository per declared collection, connected before `started` handlers run. */
export function DbMixin(collections: Record<string, CollectionSpec>): Partial<ServiceSchema> {
	const schema: Partial<ServiceSchema<ServiceSettingSchema, DbMethods, DbState>> = {
		actions: {
			/** Whether this service's store answers (used by the gateway's readiness check). */
			storageHealth: {
				visibility: "public",
				async handler(this: DbThis, _ctx: Context): Promise<{ ok: boolean; store: string }> {
					const cfg = getConfig();
					return { ok: await this.storageHealthy(), store: cfg.mongoUrl ? "mongodb" : cfg.dataDir ? "nedb-file" : "nedb-memory" };
				},
			},
		},
		methods: {
			collection<T extends Doc>(this: DbThis, name: string): Repository<T> {
				const repo = this.$repositories.get(name);
				if (!repo) throw new Error(`collection '${name}' is not declared by service '${this.name}'`);
				return repo as unknown as Repository<T>;
			},
			collectionsOpen(this: DbThis): boolean {
				return this.$dbOpen === true;
			},
			async storageHealthy(this: DbThis): Promise<boolean> {
				try {
					for (const adapter of this.$adapters.values()) {
						if (adapter.collection) {
							const db = adapter.db as { command(cmd: object): Promise<unknown> };
							await db.command({ ping: 1 });
						}
					}
					return true;
				} catch {
					return false;
				}
			},
		},
		created(this: DbThis) {
			const cfg = getConfig();
			// Several DbMixin instances in one service add to the same maps.
			this.$adapters ??= new Map();
			this.$repositories ??= new Map();
			for (const name of Object.keys(collections)) {
				const adapter = openAdapter(this.broker, this.logger, cfg, this.name, name);
				this.$adapters.set(name, adapter);
				this.$repositories.set(name, new Repository(name, adapter));
			}
		},
		async started(this: DbThis) {
			const cfg = getConfig();
			for (const name of Object.keys(collections)) await connectAdapter(this.$adapters.get(name) as Adapter, cfg, collections[name].indexes);
			this.$dbOpen = true;
		},
		async stopped(this: DbThis) {
			this.$dbOpen = false;
			for (const name of Object.keys(collections)) await closeAdapter(this.$adapters.get(name) as Adapter);
		},
	};
	return schema as Partial<ServiceSchema>;
}
